"""Stopping runs: an operator's cancel, a regulator's halt.

A stop is a committed change of the run's status; every worker executing one
of the run's sessions watches that status (see ``sandbox.runs.engine``) and
stops generating within a fraction of a second, keeping the partial turn
marked ``halted`` or ``cancelled``. Jobs still queued are cancelled in
procrastinate so they never start.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from sandbox.audit.services import audit_record
from sandbox.live.publish import publish
from sandbox.runs.models import ACTIVE, Run, RunStatus, Session

STOP_STATUSES = (RunStatus.HALTED, RunStatus.CANCELLED)


class RunAlreadyFinished(Exception):
    """The run had already completed, failed or been stopped."""


@transaction.atomic
def run_stop(*, run: Run, status: str, actor, reason: str = "") -> Run:
    """Halt (regulator) or cancel (operator) ``run``; refuse when it has already finished.

    Uses a conditional update so that a stop racing the run's own completion
    has exactly one winner.
    """
    if status not in STOP_STATUSES:
        raise ValueError(f"a run is stopped as halted or cancelled, not {status!r}")
    now = timezone.now()
    changed = Run.objects.filter(pk=run.pk, status__in=ACTIVE
                                 ).update(status=status, finished_at=now, halt_reason=reason,
                                          halted_by=actor if actor and actor.is_authenticated
                                          else None)
    if not changed:
        raise RunAlreadyFinished(f"run {run.pk} has already finished")
    Session.objects.filter(run=run, status__in=ACTIVE).update(
        status=status, finished_at=now)
    _cancel_queued_jobs(run)
    run.refresh_from_db()
    action = "run.halt" if status == RunStatus.HALTED else "run.cancel"
    audit_record(sandbox=run.sandbox_id, actor=actor, action=action, target=run,
                 payload={"reason": reason})
    if status == RunStatus.HALTED:
        publish(run_id=run.pk, sandbox_id=run.sandbox_id, type="run.halted",
                payload={"reason": reason, "by": getattr(actor, "username", "")})
    else:
        publish(run_id=run.pk, sandbox_id=run.sandbox_id, type="run.completed",
                payload={"status": status})
    return run


def _cancel_queued_jobs(run: Run) -> None:
    """Cancel the run's jobs that have not started; running ones see the status change."""
    from procrastinate.contrib.django import app

    from sandbox.runs.services import queued_jobs

    for job_id in queued_jobs(run.sessions.values_list("pk", flat=True)).values_list(
            "id", flat=True):
        app.job_manager.cancel_job_by_id(job_id)
