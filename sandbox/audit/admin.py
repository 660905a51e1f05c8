from django.contrib import admin

from sandbox.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the table refuses changes at the database level anyway."""

    list_display = ["created_at", "sandbox", "seq", "actor_name", "action", "target_type",
                    "target_id"]
    list_filter = ["action", "sandbox"]
    search_fields = ["action", "actor_name", "target_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
