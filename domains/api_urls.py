"""REST API routes under /api/v1/ of this app (included from sandbox/urls.py)."""

from django.urls import path

from domains.api import views

models = views.DomainModelViewSet
documents = views.DocumentViewSet
PREFIX = "sandboxes/<int:sandbox_pk>/"

urlpatterns = [
    path(f"{PREFIX}models/", models.as_view({"get": "list", "post": "create"}),
         name="api-models"),
    path(f"{PREFIX}models/<int:pk>/",
         models.as_view({"get": "retrieve", "put": "update", "patch": "partial_update",
                         "delete": "destroy"}), name="api-model"),
    path(f"{PREFIX}models/<int:pk>/test-connection/",
         models.as_view({"post": "test_connection"}), name="api-model-test-connection"),
    path(f"{PREFIX}documents/", documents.as_view({"get": "list", "post": "create"}),
         name="api-documents"),
    path(f"{PREFIX}documents/<int:pk>/",
         documents.as_view({"get": "retrieve", "delete": "destroy"}), name="api-document"),
    path(f"{PREFIX}search/", views.SearchView.as_view(), name="api-search"),
]
