"""Who may open a live websocket: the websocket side of the role matrix.

Checked once, before the connection is accepted, in this order:

1. the ``Origin`` header, when present, must name an allowed host (a browser
   page of another site is refused: cross-site websocket hijacking); a
   connection without one (a script) must bring a ticket;
2. the person: a one-time ``?ticket=`` (scripts) or the session cookie (browsers);
3. the sandbox must be visible to them (else 404, exactly like a missing one), the
   role must hold ``Cap.MONITOR`` (else 403, before any run is looked up), and
   the run must belong to the sandbox (else 404): experts, who rate blind to
   model identity, never connect.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from django.conf import settings
from django.http.request import split_domain_port, validate_host

from sandbox.core.models import Membership, Sandbox
from sandbox.core.roles import Cap, can
from sandbox.live.services import ws_ticket_consume
from sandbox.runs.models import Run


@dataclass
class Refusal:
    status: int
    detail: str


@dataclass
class Grant:
    user: object
    sandbox: Sandbox
    run: Run | None


def header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def query(scope) -> dict[str, str]:
    raw = scope.get("query_string", b"").decode("latin-1")
    return {k: v[-1] for k, v in parse_qs(raw).items()}


def origin_allowed(origin: str) -> bool:
    """An origin is allowed when its host is one of ``ALLOWED_HOSTS`` (or a trusted origin)."""
    if origin in settings.CSRF_TRUSTED_ORIGINS:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host, _port = split_domain_port(parts.netloc)
    allowed = settings.ALLOWED_HOSTS or (["localhost", "127.0.0.1", "[::1]"] if settings.DEBUG
                                         else [])
    return bool(host) and validate_host(host, allowed)


def authorise(scope, *, sandbox_id: int, run_id: int | None) -> Grant | Refusal:
    """Decide a connection (sync: it reads the database)."""
    origin = header(scope, b"origin")
    params = query(scope)
    if origin is not None and not origin_allowed(origin):
        return Refusal(403, "This origin may not open live connections.")
    if "ticket" in params:
        user = ws_ticket_consume(key=params["ticket"])
        if user is None:
            return Refusal(401, "The ticket is invalid, expired or already used.")
    elif origin is None:
        return Refusal(401, "Scripts connect with a ticket (POST /api/v1/auth/ws-ticket/).")
    else:
        user = scope.get("user")
    if user is None or not user.is_authenticated:
        return Refusal(401, "Sign in first.")
    sandbox = Sandbox.objects.visible_to(user).filter(pk=sandbox_id).first()
    if sandbox is None:
        return Refusal(404, "Not found.")
    if not can(sandbox.my_role, Cap.MONITOR):
        return Refusal(403, "Your role in this sandbox does not allow watching runs live.")
    run = None
    if run_id is not None:
        run = Run.objects.filter(pk=run_id, sandbox=sandbox).first()
        if run is None:
            return Refusal(404, "Not found.")
    return Grant(user=user, sandbox=sandbox, run=run)


def still_allowed(user_id: int, sandbox_id: int) -> bool:
    """Re-checked while connected: a member removed or demoted is disconnected."""
    role = Membership.objects.filter(sandbox_id=sandbox_id, user_id=user_id,
                                     user__is_active=True).values_list("role", flat=True).first()
    return can(role, Cap.MONITOR)
