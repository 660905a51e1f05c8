"""Runs API: /api/v1/sandboxes/<sandbox_pk>/runs/..."""

from django.urls import path

from sandbox.runs.api.views import RefusalRateView, RunViewSet

base = "sandboxes/<int:sandbox_pk>/"
urlpatterns = [
    path(base + "runs/", RunViewSet.as_view({"get": "list", "post": "create"}), name="api-runs"),
    path(base + "runs/<int:run_pk>/", RunViewSet.as_view({"get": "retrieve"}), name="api-run"),
    path(base + "runs/<int:run_pk>/cancel/", RunViewSet.as_view({"post": "cancel"}),
         name="api-run-cancel"),
    path(base + "runs/<int:run_pk>/transcripts/", RunViewSet.as_view({"get": "transcripts"}),
         name="api-run-transcripts"),
    path(base + "refusal-rates/", RefusalRateView.as_view(), name="api-refusal-rates"),
]
