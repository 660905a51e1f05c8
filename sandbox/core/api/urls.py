from django.urls import path
from rest_framework.routers import SimpleRouter

from sandbox.core.api import views

router = SimpleRouter()
router.register("sandboxes", views.SandboxViewSet, basename="sandbox")

members = views.MembershipViewSet
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="api-token"),
    path("sandboxes/<int:sandbox_pk>/members/",
         members.as_view({"get": "list", "post": "create"}), name="api-members"),
    path("sandboxes/<int:sandbox_pk>/members/<int:pk>/",
         members.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
         name="api-member"),
    *router.urls,
]
