"""REST API routes under /api/v1/ of this app (included from sandbox/urls.py)."""

from django.urls import path

from sandbox.ratings.api import views

P = "sandboxes/<int:sandbox_pk>/"

urlpatterns = [
    path(f"{P}rubric/", views.RubricView.as_view(), name="api-rubric"),
    path(f"{P}rubric/versions/", views.RubricVersionsView.as_view(), name="api-rubric-versions"),
    path(f"{P}rating-settings/", views.RatingSettingsView.as_view(), name="api-rating-settings"),
    path(f"{P}rating-items/", views.RatingItemsView.as_view(), name="api-rating-items"),
    path(f"{P}rating-items/generate/", views.RatingItemsGenerateView.as_view(),
         name="api-rating-items-generate"),
    path(f"{P}rating-items/<str:item_id>/", views.RatingItemDetailView.as_view(),
         name="api-rating-item"),
    path(f"{P}rating-items/<str:item_id>/gold/", views.RatingItemGoldView.as_view(),
         name="api-rating-item-gold"),
    path(f"{P}rating-items/<str:item_id>/adjudicate/", views.RatingItemAdjudicateView.as_view(),
         name="api-rating-item-adjudicate"),
    path(f"{P}rating-queue/next/", views.QueueNextView.as_view(), name="api-rating-next"),
    path(f"{P}rating-queue/skip/", views.QueueSkipView.as_view(), name="api-rating-skip"),
    path(f"{P}ratings/", views.RatingsView.as_view(), name="api-ratings"),
    path(f"{P}ratings/<str:rating_id>/", views.RatingDetailView.as_view(), name="api-rating"),
    path(f"{P}results/", views.ResultsView.as_view(), name="api-results"),
    path(f"{P}results/release/", views.ReleaseView.as_view(), name="api-results-release"),
    path(f"{P}exports/<str:format_name>/", views.ExportView.as_view(), name="api-export"),
]
