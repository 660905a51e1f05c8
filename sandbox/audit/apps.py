from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "sandbox.audit"
    label = "audit"
    verbose_name = _("Audit trail")

    def ready(self):
        from sandbox.audit import signals  # noqa: F401
        from sandbox.core.nav import register_section
        from sandbox.core.roles import Cap

        register_section("audit-trail", _("Audit trail"), Cap.AUDIT, order=90)
