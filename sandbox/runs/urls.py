from django.urls import path

from sandbox.runs import pages

urlpatterns = [
    path("sandboxes/<int:pk>/runs/", pages.run_list, name="run-list"),
    path("sandboxes/<int:pk>/runs/start/", pages.run_start, name="run-start"),
    path("sandboxes/<int:pk>/runs/demo/", pages.run_demo, name="run-demo"),
    path("sandboxes/<int:pk>/runs/<int:run_pk>/", pages.run_detail, name="run-detail"),
    path("sandboxes/<int:pk>/runs/<int:run_pk>/cancel/", pages.run_cancel, name="run-cancel"),
]
