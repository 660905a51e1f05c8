"""Starting runs: validation, quotas, fan-out into sessions, one job per session."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from domains.models import DomainModel
from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox, SandboxStatus
from sandbox.runs.models import Run, RunStatus, Session
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


PARAPHRASE_PROMPT = (
    "Paraphrase the user's message below so that it asks for exactly the same thing in "
    "different words, in the same language. Reply with the paraphrase only.\n\n"
    "Message:\n{text}"
)


def paraphraser_for(sandbox: Sandbox):
    """A sync paraphrase function backed by the sandbox's active helper model, or None.

    PromptBench's semantic-level perturbation needs a model; without a helper
    model the ``perturb_semantic`` probe is skipped with that reason.
    """
    helper = DomainModel.objects.filter(sandbox=sandbox, role="helper", is_active=True).first()
    if helper is None:
        return None

    def paraphrase(text: str) -> str:
        from asgiref.sync import async_to_sync

        from domains.llm import acomplete

        reply = async_to_sync(acomplete)(
            helper, [{"role": "user", "content": PARAPHRASE_PROMPT.format(text=text)}])
        return reply.strip() or text

    return paraphrase


@transaction.atomic
def run_start(*, sandbox: Sandbox, started_by, models: list[DomainModel],
              scenarios: list[Scenario] | None = None, with_variants: bool = False,
              variant_kinds: list[str] | None = None) -> Run:
    """Start a run of ``scenarios`` (all the sandbox's when None) against ``models``.

    One :class:`Session` per (scenario or variant, model), each executed by one
    procrastinate job deferred in the same transaction. Refuses with a
    clear message when the sandbox is not active (suspended by a regulator,
    draft, closed) or a quota is exhausted.
    """
    # no_key: the live event writer holds key-share locks on the sandbox row (foreign keys).
    sandbox = Sandbox.objects.select_for_update(no_key=True).get(pk=sandbox.pk)
    if sandbox.status == SandboxStatus.SUSPENDED:
        raise PermissionDenied(_("Testing in this sandbox is suspended by a regulator; no new "
                                 "runs until the suspension is lifted."))
    if not sandbox.accepts_new_runs:
        raise PermissionDenied(_("The sandbox is %(status)s; runs start only in an active "
                                 "sandbox.") % {"status": sandbox.get_status_display()})
    # Counted after the lock is held, so that concurrent starts see each other's runs.
    active = Run.objects.filter(sandbox=sandbox).active().count()
    if active >= sandbox.max_concurrent_runs:
        raise QuotaExceeded(_("Quota reached: %(active)s runs are already active and this "
                              "sandbox allows %(max)s at once.")
                            % {"active": active, "max": sandbox.max_concurrent_runs})
    if sandbox.tokens_used >= sandbox.token_budget:
        raise QuotaExceeded(_("Quota reached: the sandbox has used %(used)s of its %(budget)s "
                              "token budget.") % {"used": sandbox.tokens_used,
                                                  "budget": sandbox.token_budget})
    if not models:
        raise ValidationError({"models": _("Choose at least one model.")})
    for model in models:
        if model.sandbox_id != sandbox.pk or not model.is_active:
            raise ValidationError({"models": _("Model %(id)s is not an active model of this "
                                               "sandbox.") % {"id": model.pk}})
    if scenarios is None:
        scenarios = list(Scenario.objects.filter(sandbox=sandbox).order_by("scenario_id"))
    if not scenarios:
        raise ValidationError({"scenarios": _("This sandbox has no scenarios; import a pack "
                                              "first.")})
    for scenario in scenarios:
        if scenario.sandbox_id != sandbox.pk:
            raise ValidationError({"scenarios": _("Scenario %(id)s is not in this sandbox.")
                                   % {"id": scenario.pk}})

    sessions, skipped = [], []
    paraphrase = paraphraser_for(sandbox) if with_variants else None
    for scenario in scenarios:
        specs = [scenario.spec]
        if with_variants:
            variants, skipped_kinds = _variants_of(scenario.spec, variant_kinds, paraphrase)
            specs += variants
            skipped += skipped_kinds
        for spec in specs:
            for model in models:
                sessions.append(Session(
                    sandbox=sandbox, scenario=scenario, model=model, spec=spec,
                    variant_kind=(spec.get("variant") or {}).get("kind", ""),
                    variant_id=spec["id"]))
    run = Run.objects.create(sandbox=sandbox, started_by=started_by,
                             with_variants=with_variants,
                             turns_total=sum(len(s.spec["turns"]) for s in sessions),
                             options={"variant_kinds": variant_kinds,
                                      "skipped_variants": skipped})
    for session in sessions:
        session.run = run
    Session.objects.bulk_create(sessions)
    audit_record(sandbox=sandbox, actor=started_by, action="run.start", target=run,
                 payload={"models": [m.pk for m in models],
                          "scenarios": [s.scenario_id for s in scenarios],
                          "with_variants": with_variants, "sessions": len(sessions)})
    defer_sessions(sessions)
    return run


def defer_sessions(sessions: list[Session]) -> None:
    """Queue one job per session, with the queueing lock ``session-<id>``.

    Called inside the transaction that creates the sessions (procrastinate's
    Django connector writes through the same connection): the jobs commit with
    the run or not at all, and workers hear of them (NOTIFY) at that commit.
    All the jobs go in one statement. A session's queued job is found again by
    its lock (:func:`queued_jobs`), so nothing is written back to the session.
    """
    from procrastinate.contrib.django import app

    from sandbox.runs.tasks import run_session

    app.job_manager.batch_defer_jobs([
        run_session.configure(queueing_lock=session_lock(s.pk)).make_new_job(session_id=s.pk)
        for s in sessions])


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
    return run.status in (RunStatus.QUEUED, RunStatus.RUNNING)
