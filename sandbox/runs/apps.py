from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RunsConfig(AppConfig):
    name = "sandbox.runs"
    label = "runs"
    verbose_name = _("Runs")

    def ready(self):
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("run-list", _("Runs"), Cap.MONITOR, order=30)
