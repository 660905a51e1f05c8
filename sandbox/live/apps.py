from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LiveConfig(AppConfig):
    name = "sandbox.live"
    label = "live"
    verbose_name = _("Live monitoring")

    def ready(self):
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("live-dashboard", _("Live monitor"), Cap.MONITOR, order=40)
