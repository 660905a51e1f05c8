"""Starting runs: validation, quotas, fan-out into sessions, one job per session."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import Sum
from django.utils.translation import gettext as _

from domains.models import DomainModel
from domains.services import paraphraser_for
from sandbox.audit.services import audit_event, chain_lock_statements
from sandbox.core.models import Sandbox, SandboxStatus
from sandbox.runs.models import ACTIVE, Run, Session
from sandbox.sqlbatch import (
    carried_transaction,
    columns,
    execute_together,
    from_row,
    insert_together,
)
from scenarios.models import Scenario
from scenarios.probes import generate_variant_set

logger = logging.getLogger(__name__)


class QuotaExceeded(PermissionDenied):
    """A sandbox quota (concurrent runs, token budget) refuses a new run."""


def _variants_of(spec: dict, kinds: list[str] | None, paraphrase=None
                 ) -> tuple[list[dict], list[dict]]:
    """The attack and perturbation variants requested for ``spec`` (and those skipped)."""
    requested = kinds if kinds is not None else spec.get("probes", [])
    if not requested:
        return [], []
    variant_set = generate_variant_set(spec, requested, paraphrase=paraphrase)
    return variant_set.variants, variant_set.skipped


def run_start(*, sandbox: Sandbox, started_by, models: list[DomainModel],
              scenarios: list[Scenario] | None = None, with_variants: bool = False,
              variant_kinds: list[str] | None = None) -> Run:
    """Start a run of ``scenarios`` (all the sandbox's when None) against ``models``.

    One :class:`Session` per (scenario or variant, model), each executed by one
    procrastinate job deferred in the same transaction. Refuses with a
    clear message when the sandbox is not active (suspended by a regulator,
    draft, closed) or a quota is exhausted.

    Two round trips, ``BEGIN`` and ``COMMIT`` included
    (:func:`~sandbox.sqlbatch.carried_transaction`): :func:`_lock_for_start`
    with the ``BEGIN``, then the run, its sessions, its audit event and its
    jobs with the ``COMMIT``. The API starts runs while the embedded worker
    streams others, and each round trip there costs a wait for the GIL
    (``sandbox/sqlbatch.py``). Inside a caller's ``atomic`` block it runs in a
    savepoint instead.
    """
    # Refused at once when the sandbox as given does not take runs (it is checked again
    # under the lock): a suspended sandbox's helper model must not be asked for variants.
    _refuse_unless_accepting(sandbox)
    if scenarios is None:
        scenarios = list(Scenario.objects.filter(sandbox=sandbox, retired=False)
                         .order_by("scenario_id"))
    # The choice is checked before anything else: another sandbox's scenario must not
    # reach this sandbox's helper model as a variant to paraphrase.
    _refuse_unless_chosen_here(sandbox, models, scenarios)
    # Variants are made before the sandbox is locked: a semantic perturbation asks the
    # helper model, and the locked row would hold up the turn saves of the sandbox's other
    # runs (they update its token counter) meanwhile.
    specs, skipped = {}, []
    paraphrase = paraphraser_for(sandbox) if with_variants else None
    for scenario in scenarios:
        specs[scenario.pk] = [scenario.spec]
        if with_variants:
            variants, skipped_kinds = _variants_of(scenario.spec, variant_kinds, paraphrase)
            specs[scenario.pk] += variants
            skipped += skipped_kinds
    planned = [(scenario, spec, model) for scenario in scenarios
               for spec in specs[scenario.pk] for model in models]

    with carried_transaction() as carried:
        sandbox, active, audit_head, run_id, session_ids = _lock_for_start(
            sandbox.pk, sessions=len(planned), begin=carried.begin)
        _refuse_unless_accepting(sandbox)
        if active >= sandbox.max_concurrent_runs:
            raise QuotaExceeded(_("Quota reached: %(active)s runs are already active and "
                                  "this sandbox allows %(max)s at once.")
                                % {"active": active, "max": sandbox.max_concurrent_runs})
        if sandbox.tokens_used >= sandbox.token_budget:
            raise QuotaExceeded(_("Quota reached: the sandbox has used %(used)s of its "
                                  "%(budget)s token budget.")
                                % {"used": sandbox.tokens_used,
                                   "budget": sandbox.token_budget})

        run = Run(pk=run_id, sandbox=sandbox, started_by=started_by,
                  with_variants=with_variants,
                  options={"variant_kinds": variant_kinds, "skipped_variants": skipped})
        sessions = [Session(pk=session_id, run=run, sandbox=sandbox, scenario=scenario,
                            model=model, spec=spec,
                            variant_kind=(spec.get("variant") or {}).get("kind", ""),
                            variant_id=spec["id"])
                    for session_id, (scenario, spec, model) in zip(session_ids, planned,
                                                                   strict=True)]
        run.turns_total = sum(len(s.spec["turns"]) for s in sessions)
        event = audit_event(sandbox=sandbox, actor=started_by, action="run.start", target=run,
                            payload={"models": [m.pk for m in models],
                                     "scenarios": [s.scenario_id for s in scenarios],
                                     "with_variants": with_variants,
                                     "sessions": len(sessions)},
                            head=audit_head)
        insert_together([run], sessions, [event],
                        then=[defer_sessions_sql(sessions), *carried.commit])
    return run


def _refuse_unless_chosen_here(sandbox: Sandbox, models: list[DomainModel],
                               scenarios: list[Scenario]) -> None:
    if not models:
        raise ValidationError({"models": _("Choose at least one model.")})
    for model in models:
        if model.sandbox_id != sandbox.pk or not model.is_active:
            raise ValidationError({"models": _("Model %(id)s is not an active model of "
                                               "this sandbox.") % {"id": model.pk}})
    if not scenarios:
        raise ValidationError({"scenarios": _("This sandbox has no scenarios; import a "
                                              "pack first.")})
    for scenario in scenarios:
        if scenario.sandbox_id != sandbox.pk:
            raise ValidationError({"scenarios": _("Scenario %(id)s is not in this "
                                                  "sandbox.") % {"id": scenario.pk}})
        if scenario.retired:
            raise ValidationError({"scenarios": _(
                "Scenario %(id)s (%(name)s) was removed from its pack; it is kept only for "
                "the runs that played it.") % {"id": scenario.pk, "name": scenario.scenario_id}})


def _refuse_unless_accepting(sandbox: Sandbox) -> None:
    if sandbox.status == SandboxStatus.SUSPENDED:
        raise PermissionDenied(_("Testing in this sandbox is suspended by a regulator; no new "
                                 "runs until the suspension is lifted."))
    if not sandbox.accepts_new_runs:
        raise PermissionDenied(_("The sandbox is %(status)s; runs start only in an active "
                                 "sandbox.") % {"status": sandbox.get_status_display()})


def _lock_for_start(sandbox_id: int, *, sessions: int, begin: Sequence[str] = ()
                    ) -> tuple[Sandbox, int, tuple[int, str] | None, int, list[int]]:
    """Lock what a new run needs, in one round trip; return the sandbox and its number of
    active runs, both read under the lock, its audit chain's head, the new run's id and
    ``sessions`` new session ids.

    Four statements, after ``begin`` (the carried ``BEGIN``, when there is
    one): the sandbox's row
    lock (``FOR NO KEY UPDATE``: the live event writer holds key-share locks
    on the row, which this must not wait for), then its audit chain's lock and
    head (:func:`~sandbox.audit.services.chain_lock_statements`; row before chain, the
    order in which any change that records an audit event takes them), then
    the read. Each statement takes its snapshot when it starts, so the count
    sees the run of a concurrent start that held the lock before this one (one
    statement would count from before the wait and let two starts past the
    quota). The ids are drawn here so that the audit event can name the run,
    and the jobs their sessions, before anything is inserted.
    """
    table = Sandbox._meta.db_table
    compose = connection.ops.compose_sql
    *_, head, read = execute_together([
        *begin,
        compose(f"SELECT 1 FROM {table} WHERE id = %s FOR NO KEY UPDATE", [sandbox_id]),
        *chain_lock_statements(sandbox_id),
        compose(f"SELECT {columns(Sandbox)},"
                f" (SELECT count(*) FROM {Run._meta.db_table}"
                f"  WHERE sandbox_id = %s AND status = ANY(%s)),"
                f" nextval(pg_get_serial_sequence(%s, 'id')),"
                f" ARRAY(SELECT nextval(pg_get_serial_sequence(%s, 'id'))"
                f"       FROM generate_series(1, %s) ORDER BY 1)"
                f" FROM {table} WHERE id = %s",
                [sandbox_id, list(ACTIVE), Run._meta.db_table, Session._meta.db_table,
                 sessions, sandbox_id])])
    if not read:
        raise Sandbox.DoesNotExist(f"sandbox {sandbox_id} does not exist")
    row = read[0]
    return (from_row(Sandbox, row[:-3]), row[-3], head[0] if head else None, row[-2],
            list(row[-1]))


def defer_sessions_sql(sessions: list[Session]) -> str:
    """The statement, bound, that queues one job per session (``session-<id>`` locks).

    It is procrastinate's own batch defer (the query and arguments its job
    manager builds, wrapped as its Django connector wraps them), bound here so
    that :func:`run_start` can send it with the run's inserts: the jobs commit
    with the run or not at all. A session's queued job is found again by its
    lock (:func:`queued_jobs`), so nothing is written back to the session.
    ``tests/runs/test_start.py`` compares the jobs with those procrastinate's
    ``batch_defer_jobs`` makes (the manager's method is private API).
    """
    from procrastinate.contrib.django import app

    from sandbox.runs.tasks import run_session

    jobs = [run_session.configure(queueing_lock=session_lock(s.pk)).make_new_job(
        session_id=s.pk) for s in sessions]
    arguments = app.job_manager._defer_jobs_query_kwargs(jobs=jobs)
    query = arguments.pop("query")
    connector = app.connector.get_sync_connector()
    return connection.ops.compose_sql(query, connector._wrap_json(arguments))


def session_lock(session_id: int) -> str:
    """The queueing lock of a session's job: at most one queued job per session."""
    return f"session-{session_id}"


def queued_jobs(session_ids):
    """The procrastinate jobs of these sessions that no worker has started yet."""
    from procrastinate.contrib.django.models import ProcrastinateJob

    return ProcrastinateJob.objects.filter(
        queueing_lock__in=[session_lock(pk) for pk in session_ids], status="todo")


def run_tokens(run: Run) -> int:
    return run.sessions.aggregate(total=Sum("tokens_used"))["total"] or 0


def run_is_active(run: Run) -> bool:
    return run.status in ACTIVE
