"""Pages of this app (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.ratings.pages import views

P = "sandboxes/<int:pk>/"

urlpatterns = [
    path(f"{P}rate/", views.rate, name="ratings-rate"),
    path(f"{P}rate/submit/", views.rate_submit, name="ratings-rate-submit"),
    path(f"{P}rate/skip/", views.rate_skip, name="ratings-rate-skip"),
    path(f"{P}rating-setup/", views.setup, name="ratings-setup"),
    path(f"{P}rating-setup/rubric/", views.rubric_save, name="ratings-rubric-save"),
    path(f"{P}rating-setup/rubric/defaults/", views.rubric_defaults,
         name="ratings-rubric-defaults"),
    path(f"{P}rating-setup/settings/", views.settings_save, name="ratings-settings-save"),
    path(f"{P}rating-setup/generate/", views.items_generate, name="ratings-items-generate"),
    path(f"{P}rating-setup/items/<str:item_id>/adjudicate/", views.adjudicate,
         name="ratings-adjudicate"),
    path(f"{P}results/", views.results, name="ratings-results"),
    path(f"{P}results/release/", views.release, name="ratings-release"),
]
