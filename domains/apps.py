from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DomainsConfig(AppConfig):
    name = "domains"
    label = "domains"
    verbose_name = _("Domain models and knowledge")

    def ready(self):
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("domain-models", _("Models"), Cap.MONITOR, order=20)
        register_section("knowledge-documents", _("Knowledge base"), Cap.VIEW, order=25)
        register_section("knowledge-search", _("Search"), Cap.VIEW, order=26)
