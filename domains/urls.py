"""Pages of this app (included from sandbox/urls.py)."""

from django.urls import path

from domains.pages import views

PREFIX = "sandboxes/<int:pk>/"

urlpatterns = [
    path(f"{PREFIX}models/", views.model_list, name="domain-models"),
    path(f"{PREFIX}models/new/", views.model_create, name="domain-model-create"),
    path(f"{PREFIX}models/<int:model_pk>/edit/", views.model_edit, name="domain-model-edit"),
    path(f"{PREFIX}models/<int:model_pk>/delete/", views.model_delete,
         name="domain-model-delete"),
    path(f"{PREFIX}models/<int:model_pk>/test/", views.model_test, name="domain-model-test"),
    path(f"{PREFIX}documents/", views.document_list, name="knowledge-documents"),
    path(f"{PREFIX}documents/<int:doc_pk>/", views.document_detail, name="knowledge-document"),
    path(f"{PREFIX}documents/<int:doc_pk>/delete/", views.document_delete,
         name="knowledge-document-delete"),
    path(f"{PREFIX}search/", views.search, name="knowledge-search"),
]
