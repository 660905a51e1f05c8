from django.contrib.auth import views as auth_views
from django.urls import path

from sandbox.core.pages import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.sandbox_list, name="sandbox-list"),
    path("sandboxes/new/", views.sandbox_create, name="sandbox-create"),
    path("sandboxes/<int:pk>/", views.sandbox_detail, name="sandbox-detail"),
    path("sandboxes/<int:pk>/edit/", views.sandbox_edit, name="sandbox-edit"),
    path("sandboxes/<int:pk>/members/add/", views.member_add, name="member-add"),
    path("sandboxes/<int:pk>/members/<int:member_pk>/role/", views.member_role,
         name="member-role"),
    path("sandboxes/<int:pk>/members/<int:member_pk>/remove/", views.member_remove,
         name="member-remove"),
]
