"""A regulator's powers (suspend a sandbox, lift the suspension, annotate a turn) and
the one-time websocket tickets of scripts. Each write leaves an audit event."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox, SandboxStatus
from sandbox.live.models import Annotation, WsTicket, ticket_digest
from sandbox.live.publish import publish
from sandbox.runs.control import RunAlreadyFinished, run_stop
from sandbox.runs.models import Run, RunStatus, Severity, Turn

TICKET_SECONDS = 30
REASON_MAX = 2000
NOTE_MAX = 5000


def _required_text(field: str, value: str | None, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field: _("At most %(limit)s characters.") % {"limit": limit}})
    return text


def _lock(sandbox: Sandbox) -> Sandbox:
    """Lock the sandbox's row against concurrent status changes.

    ``FOR NO KEY UPDATE``: event writers inserting rows that reference the
    sandbox (``FOR KEY SHARE`` at commit) are not blocked, so halting the
    sandbox's runs while they stream cannot deadlock with them.
    """
    return Sandbox.objects.select_for_update(no_key=True).get(pk=sandbox.pk)


def halt_reason(value: str | None) -> str:
    """Validate the reason a regulator gives for halting a run (the field is ``reason``)."""
    return _required_text("reason", value, REASON_MAX)


@transaction.atomic
def sandbox_suspend(*, sandbox: Sandbox, actor, reason: str) -> tuple[Sandbox, list[Run]]:
    """Suspend testing (EU AI Act Art. 57(11)): halt every active run, refuse new ones.

    Returns the sandbox and the runs halted. Refuses a sandbox that is already
    suspended or closed.
    """
    reason = _required_text("reason", reason, REASON_MAX)
    sandbox = _lock(sandbox)
    if sandbox.status == SandboxStatus.SUSPENDED:
        raise ValidationError({"status": _("The sandbox is already suspended.")})
    if sandbox.status == SandboxStatus.CLOSED:
        raise ValidationError({"status": _("A closed sandbox cannot be suspended.")})
    before = sandbox.status
    sandbox.status = SandboxStatus.SUSPENDED
    sandbox.suspension_reason = reason
    sandbox.save(update_fields=["status", "suspension_reason", "updated_at"])
    audit_record(sandbox=sandbox, actor=actor, action="sandbox.suspend", target=sandbox,
                 payload={"reason": reason, "status": [before, SandboxStatus.SUSPENDED]})
    halted = []
    for run in Run.objects.filter(sandbox=sandbox).active().order_by("id"):
        try:
            halted.append(run_stop(run=run, status=RunStatus.HALTED, actor=actor,
                                   reason=_("Sandbox suspended: %(reason)s") % {"reason": reason}))
        except RunAlreadyFinished:
            continue  # it finished on its own meanwhile
    return sandbox, halted


@transaction.atomic
def sandbox_lift_suspension(*, sandbox: Sandbox, actor, reason: str = "") -> Sandbox:
    """End a suspension: the sandbox is active again and accepts new runs."""
    sandbox = _lock(sandbox)
    if sandbox.status != SandboxStatus.SUSPENDED:
        raise ValidationError({"status": _("The sandbox is not suspended.")})
    previous = sandbox.suspension_reason
    sandbox.status = SandboxStatus.ACTIVE
    sandbox.suspension_reason = ""
    sandbox.save(update_fields=["status", "suspension_reason", "updated_at"])
    audit_record(sandbox=sandbox, actor=actor, action="sandbox.lift_suspension", target=sandbox,
                 payload={"reason": (reason or "").strip(), "suspension_reason": previous,
                          "status": [SandboxStatus.SUSPENDED, SandboxStatus.ACTIVE]})
    return sandbox


@transaction.atomic
def annotation_add(*, sandbox: Sandbox, actor, turn_id, note: str,
                   severity: str = Severity.INFO) -> Annotation:
    """Attach a regulator's note to a turn of this sandbox and broadcast it live."""
    note = _required_text("note", note, NOTE_MAX)
    if severity not in Severity.values:
        raise ValidationError({"severity": _("Choose one of: %(values)s.")
                               % {"values": ", ".join(Severity.values)}})
    try:
        turn = Turn.objects.select_related("session").get(pk=int(turn_id), sandbox=sandbox)
    except (TypeError, ValueError, Turn.DoesNotExist):
        raise ValidationError({"turn": _("No turn %(id)s in this sandbox.") % {"id": turn_id}}
                              ) from None
    annotation = Annotation.objects.create(sandbox=sandbox, run_id=turn.run_id, turn=turn,
                                           author=actor, note=note, severity=severity)
    audit_record(sandbox=sandbox, actor=actor, action="annotation.add", target=annotation,
                 payload={"run": turn.run_id, "turn": turn.pk, "severity": severity,
                          "note": note})
    publish(run_id=turn.run_id, sandbox_id=sandbox.pk, type="annotation",
            payload=annotation.as_payload())
    return annotation


@transaction.atomic
def ws_ticket_issue(*, user) -> tuple[str, WsTicket]:
    """Issue a one-time websocket ticket for ``user``; return the key (shown once) and row."""
    now = timezone.now()
    WsTicket.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    key = secrets.token_urlsafe(32)
    ticket = WsTicket.objects.create(user=user, digest=ticket_digest(key), created_at=now,
                                     expires_at=now + timedelta(seconds=TICKET_SECONDS))
    audit_record(sandbox=None, actor=user, action="auth.ws_ticket", target=ticket, payload={})
    return key, ticket


def ws_ticket_consume(*, key: str):
    """Use a ticket: return its user if it is unexpired and unused, else None.

    A conditional update marks it used, so two connections racing with one
    ticket have exactly one winner.
    """
    if not key or len(key) > 200:
        return None
    now = timezone.now()
    digest = ticket_digest(key)
    used = WsTicket.objects.filter(digest=digest, used_at__isnull=True,
                                   expires_at__gt=now).update(used_at=now)
    if not used:
        return None
    ticket = WsTicket.objects.select_related("user").get(digest=digest)
    return ticket.user if ticket.user.is_active else None
