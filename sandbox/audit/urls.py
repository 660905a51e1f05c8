"""Pages of the audit trail (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.audit import views

urlpatterns = [
    path("sandboxes/<int:pk>/audit/", views.audit_trail, name="audit-trail"),
    path("sandboxes/<int:pk>/audit/export.jsonl", views.audit_export, name="audit-export"),
]
