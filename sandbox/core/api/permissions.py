"""Sandbox-scoped API access: the DRF side of the role matrix in ``sandbox.core.roles``.

A view nested under ``/api/v1/sandboxes/{sandbox_pk}/`` mixes in
:class:`SandboxScopedMixin`, which finds the sandbox through
``Sandbox.objects.visible_to(user)`` (404 for anyone without a role in it,
so another sandbox's resources never reveal that they exist) and declares the
capability each HTTP method needs; :class:`HasSandboxCapability` enforces it.
"""

from functools import cached_property

from django.http import Http404
from rest_framework.permissions import BasePermission

from sandbox.core.models import Sandbox
from sandbox.core.roles import Cap, can

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class HasSandboxCapability(BasePermission):
    message = "Your role in this sandbox does not allow this action."

    def has_permission(self, request, view):
        sandbox = view.sandbox  # raises Http404 when the caller holds no role in it
        cap = view.required_capability(request)
        return can(sandbox.my_role, cap, released=sandbox.results_released)


class SandboxScopedMixin:
    """Resolve ``self.sandbox`` for the caller and check the capability the method needs.

    Set ``read_capability`` and ``write_capability`` (or override
    ``required_capability``) on the view.
    """

    sandbox_url_kwarg = "sandbox_pk"
    read_capability = Cap.VIEW
    write_capability = Cap.CONFIGURE
    permission_classes = [HasSandboxCapability]

    @cached_property
    def sandbox(self) -> Sandbox:
        try:
            pk = int(self.kwargs[self.sandbox_url_kwarg])
        except (TypeError, ValueError):
            raise Http404 from None
        sandbox = Sandbox.objects.visible_to(self.request.user).filter(pk=pk).first()
        if sandbox is None:
            raise Http404
        return sandbox

    def required_capability(self, request) -> Cap:
        action_caps = getattr(self, "action_capabilities", {})
        action = getattr(self, "action", None)
        if action in action_caps:
            return action_caps[action]
        return self.read_capability if request.method in SAFE_METHODS else self.write_capability

    def get_permissions(self):
        from rest_framework.permissions import IsAuthenticated

        return [IsAuthenticated(), *[cls() for cls in self.permission_classes]]
