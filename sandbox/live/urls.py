"""Pages of live monitoring (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.live import pages

urlpatterns = [
    path("sandboxes/<int:pk>/live/", pages.dashboard, name="live-dashboard"),
    path("sandboxes/<int:pk>/live/suspend/", pages.suspend, name="live-suspend"),
    path("sandboxes/<int:pk>/live/lift-suspension/", pages.lift, name="live-lift"),
    path("sandboxes/<int:pk>/live/runs/<int:run_pk>/", pages.run_live, name="live-run"),
    path("sandboxes/<int:pk>/live/runs/<int:run_pk>/halt/", pages.run_halt,
         name="live-run-halt"),
    path("sandboxes/<int:pk>/live/runs/<int:run_pk>/annotate/", pages.annotate,
         name="live-annotate"),
]
