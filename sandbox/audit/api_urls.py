"""REST API routes under /api/v1/ of the audit trail (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.audit import api

urlpatterns = [
    path("sandboxes/<int:sandbox_pk>/audit/", api.AuditEventList.as_view(), name="api-audit"),
    path("sandboxes/<int:sandbox_pk>/audit/verify/", api.AuditVerify.as_view(),
         name="api-audit-verify"),
    path("sandboxes/<int:sandbox_pk>/audit/export/", api.AuditExport.as_view(),
         name="api-audit-export"),
]
