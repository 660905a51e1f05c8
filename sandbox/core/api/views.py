"""REST API for sandboxes, their members and API tokens."""

from django.contrib.auth import authenticate
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from sandbox.audit.services import audit_record
from sandbox.core import services
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.api.serializers import (
    MembershipSerializer,
    MembershipUpdateSerializer,
    SandboxSerializer,
    TokenRequestSerializer,
    TokenResponseSerializer,
)
from sandbox.core.models import Membership, Sandbox
from sandbox.core.roles import Cap, can


class SandboxViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """The caller's sandboxes. Only operators change one; anyone may create one
    when they hold the platform permission ``core.add_sandbox``."""

    serializer_class = SandboxSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = ["vertical", "status"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return Sandbox.objects.visible_to(self.request.user).order_by("name", "id")

    def get_object(self):
        sandbox = super().get_object()  # 404 outside visible_to()
        if self.request.method not in ("GET", "HEAD", "OPTIONS") and not can(
                sandbox.my_role, Cap.CONFIGURE):
            raise PermissionDenied("Only the sandbox's operators can change it.")
        return sandbox

    def perform_create(self, serializer):
        if not self.request.user.has_perm("core.add_sandbox"):
            raise PermissionDenied("You may not create sandboxes; ask platform staff.")
        sandbox = services.sandbox_create(created_by=self.request.user,
                                          **serializer.validated_data)
        serializer.instance = Sandbox.objects.visible_to(self.request.user).get(pk=sandbox.pk)

    def perform_update(self, serializer):
        services.sandbox_update(sandbox=serializer.instance, actor=self.request.user,
                                **serializer.validated_data)
        serializer.instance = Sandbox.objects.visible_to(self.request.user).get(
            pk=serializer.instance.pk)


class MembershipViewSet(SandboxScopedMixin, viewsets.ModelViewSet):
    """Members of one sandbox and their roles; operators add, change and remove them."""

    serializer_class = MembershipSerializer
    filterset_fields = ["role"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self):
        return Membership.objects.filter(sandbox=self.sandbox).select_related("user").order_by(
            "role", "user__username")

    def get_serializer_class(self):
        if self.action == "partial_update":
            return MembershipUpdateSerializer
        return MembershipSerializer

    def create(self, request, *args, **kwargs):
        serializer = MembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_add(
            sandbox=self.sandbox, actor=request.user,
            username=serializer.validated_data["user"]["username"],
            role=serializer.validated_data["role"])
        return Response(MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        serializer = MembershipUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.membership_update(membership=self.get_object(), actor=request.user,
                                                role=serializer.validated_data["role"])
        return Response(MembershipSerializer(membership).data)

    def destroy(self, request, *args, **kwargs):
        services.membership_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenView(APIView):
    """Exchange a username and password for an API token; DELETE revokes it (sign out)."""

    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_permissions(self):
        if self.request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_authenticators(self):
        if getattr(self, "request", None) is not None and self.request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(request=TokenRequestSerializer, responses=TokenResponseSerializer)
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, username=serializer.validated_data["username"],
                            password=serializer.validated_data["password"])
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]})
        token, _ = Token.objects.get_or_create(user=user)
        audit_record(sandbox=None, actor=user, action="auth.token", payload={})
        return Response({"token": token.key})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        deleted, _ = Token.objects.filter(user=request.user).delete()
        if not deleted:
            raise Http404
        audit_record(sandbox=None, actor=request.user, action="auth.token_revoked", payload={})
        return Response(status=status.HTTP_204_NO_CONTENT)
