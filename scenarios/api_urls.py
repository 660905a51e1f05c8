"""Scenario API: /api/v1/sandboxes/<sandbox_pk>/scenarios/..."""

from django.urls import path

from scenarios.api.views import PackViewSet, ScenarioViewSet

base = "sandboxes/<int:sandbox_pk>/"
urlpatterns = [
    path(base + "scenarios/", ScenarioViewSet.as_view({"get": "list"}), name="api-scenarios"),
    path(base + "scenarios/import/", ScenarioViewSet.as_view({"post": "import_pack"}),
         name="api-scenarios-import"),
    path(base + "scenarios/<int:scenario_pk>/", ScenarioViewSet.as_view({"get": "retrieve"}),
         name="api-scenario"),
    path(base + "scenarios/<int:scenario_pk>/variants/",
         ScenarioViewSet.as_view({"get": "variants"}), name="api-scenario-variants"),
    path(base + "packs/", PackViewSet.as_view({"get": "list"}), name="api-packs"),
]
