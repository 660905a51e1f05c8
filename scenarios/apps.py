from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScenariosConfig(AppConfig):
    name = "scenarios"
    label = "scenarios"
    verbose_name = _("Scenarios")

    def ready(self):
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("scenario-list", _("Scenarios"), Cap.MONITOR, order=20)
