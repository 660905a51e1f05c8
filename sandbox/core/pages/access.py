"""The page side of the role matrix: fetch a sandbox for the signed-in user or answer 404/403."""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from sandbox.core.models import Sandbox
from sandbox.core.roles import Cap, can


def sandbox_for(request, pk, cap: Cap = Cap.VIEW) -> Sandbox:
    """Return the sandbox ``pk`` annotated with ``my_role`` if the user holds ``cap`` in it.

    A sandbox the user holds no role in is "not found" (404), never "forbidden":
    its existence is not revealed. A member without the capability gets 403.
    """
    sandbox = Sandbox.objects.visible_to(request.user).filter(pk=pk).first()
    if sandbox is None:
        raise Http404
    if not can(sandbox.my_role, cap, released=sandbox.results_released):
        raise PermissionDenied
    return sandbox
