"""REST API routes under /api/v1/ of live monitoring (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.live.api import views

urlpatterns = [
    path("auth/ws-ticket/", views.WsTicketView.as_view(), name="api-ws-ticket"),
    path("sandboxes/<int:sandbox_pk>/runs/<int:run_pk>/halt/", views.RunHaltView.as_view(),
         name="api-run-halt"),
    path("sandboxes/<int:sandbox_pk>/suspend/", views.SuspendView.as_view(),
         name="api-sandbox-suspend"),
    path("sandboxes/<int:sandbox_pk>/lift-suspension/", views.LiftSuspensionView.as_view(),
         name="api-sandbox-lift-suspension"),
    path("sandboxes/<int:sandbox_pk>/annotations/", views.AnnotationListView.as_view(),
         name="api-annotations"),
]
