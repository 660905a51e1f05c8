"""Pages of live monitoring: the regulator's dashboard, a run's live transcript, and the
forms behind halting a run, suspending the sandbox and annotating a turn."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from domains.models import DomainModel
from sandbox.core.pages.access import sandbox_for
from sandbox.core.pages.errors import flash_errors
from sandbox.core.roles import Cap, can
from sandbox.live import services
from sandbox.live.models import Annotation
from sandbox.runs.control import RunAlreadyFinished, run_stop
from sandbox.runs.models import (
    ACTIVE,
    SEVERITY_ORDER,
    Alert,
    Run,
    RunStatus,
    Session,
    Severity,
)
from scenarios.models import Scenario

RECENT_RUNS = 20
FEED_ALERTS = 100


def _severity_rank():
    return Case(*[When(severity=s, then=Value(rank)) for s, rank in SEVERITY_ORDER.items()],
                default=Value(-1), output_field=IntegerField())


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _filters(request, sandbox) -> dict:
    """The dashboard's filter (model, scenario, lowest alert severity), checked against the
    sandbox: an id from elsewhere is ignored, never looked up in another sandbox."""
    model = DomainModel.objects.filter(sandbox=sandbox,
                                       pk=_int_or_none(request.GET.get("model"))).first()
    scenario = Scenario.objects.filter(sandbox=sandbox,
                                       pk=_int_or_none(request.GET.get("scenario"))).first()
    severity = request.GET.get("severity", "")
    return {"model": model, "scenario": scenario,
            "severity": severity if severity in Severity.values else ""}


@login_required
def dashboard(request, pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    chosen = _filters(request, sandbox)
    runs = Run.objects.filter(sandbox=sandbox)
    alerts = Alert.objects.filter(sandbox=sandbox)
    # One session must match both the model and the scenario (one filter() call, one join):
    # a run where the model played another scenario is not "this model on this scenario".
    session = {key: chosen[key] for key in ("model", "scenario") if chosen[key]}
    if session:
        runs = runs.filter(**{f"sessions__{key}": value for key, value in session.items()})
        alerts = alerts.filter(**{f"turn__session__{key}": value
                                  for key, value in session.items()})
    if chosen["severity"]:
        floor = SEVERITY_ORDER[chosen["severity"]]
        alerts = alerts.annotate(rank=_severity_rank()).filter(rank__gte=floor)
        runs = runs.filter(alerts__in=alerts)
    runs = runs.distinct()
    active = list(runs.active().order_by("-created_at", "-id"))
    recent = list(runs.exclude(status__in=ACTIVE)
                  .order_by("-created_at", "-id")[:RECENT_RUNS])
    shown = [run.pk for run in active + recent]
    sessions = Session.objects.filter(run_id__in=shown).select_related("model", "scenario")
    labels: dict[int, dict[str, set]] = {}
    session_map = {}
    for session in sessions:
        entry = labels.setdefault(session.run_id, {"models": set(), "scenarios": set()})
        entry["models"].add(session.model.label)
        entry["scenarios"].add(session.scenario.scenario_id)
        session_map[session.pk] = {"run": session.run_id, "model": session.model.label,
                                   "scenario": session.variant_id}
    for run in active + recent:
        entry = labels.get(run.pk, {"models": set(), "scenarios": set()})
        run.model_labels = sorted(entry["models"])
        run.scenario_ids = sorted(entry["scenarios"])
    feed = list(alerts.annotate(rank=_severity_rank()).select_related(
        "turn", "turn__session", "turn__session__model", "run", "check_result")
        .order_by("-rank", "-created_at", "-id")[:FEED_ALERTS])
    return render(request, "live/dashboard.html", {
        "sandbox": sandbox,
        "active_runs": active,
        "recent_runs": recent,
        "alerts": feed,
        "chosen": chosen,
        "models": DomainModel.objects.filter(sandbox=sandbox).order_by("name", "version"),
        "scenarios": Scenario.objects.filter(sandbox=sandbox).order_by("scenario_id"),
        "severities": Severity.choices,
        "can_oversee": can(sandbox.my_role, Cap.OVERSEE),
        "live_config": {
            "ws": f"/ws/sandboxes/{sandbox.pk}/",
            "since": {str(run.pk): run.event_seq for run in active},
            "sessions": {str(k): v for k, v in session_map.items()},
            "filter": {"model": chosen["model"].label if chosen["model"] else "",
                       "scenario": chosen["scenario"].scenario_id if chosen["scenario"] else "",
                       "severity": chosen["severity"]},
            "runUrl": reverse("live-run", args=[sandbox.pk, 0]),
        },
    })


@login_required
def run_live(request, pk, run_pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    run = get_object_or_404(Run, pk=run_pk, sandbox=sandbox)
    sessions = run.sessions.select_related("model", "scenario").order_by("id")
    return render(request, "live/run.html", {
        "sandbox": sandbox,
        "run": run,
        "sessions": sessions,
        "annotations": Annotation.objects.of_run(run),
        "severities": Severity.choices,
        "can_oversee": can(sandbox.my_role, Cap.OVERSEE),
        "is_active": run.status in ACTIVE,
        "live_config": {
            "ws": f"/ws/sandboxes/{sandbox.pk}/runs/{run.pk}/",
            "run": run.pk,
            "sessions": {str(s.pk): {"model": s.model.label, "scenario": s.variant_id}
                         for s in sessions},
        },
    })


@login_required
@require_POST
def run_halt(request, pk, run_pk):
    sandbox = sandbox_for(request, pk, Cap.OVERSEE)
    run = get_object_or_404(Run, pk=run_pk, sandbox=sandbox)
    try:
        reason = services.halt_reason(request.POST.get("reason"))
        run_stop(run=run, status=RunStatus.HALTED, actor=request.user, reason=reason)
    except ValidationError as exc:
        flash_errors(request, exc, {"reason": _("Reason")})
    except RunAlreadyFinished:
        messages.error(request, _("Run %(id)s has already finished.") % {"id": run.pk})
    else:
        messages.success(request, _("Run %(id)s halted.") % {"id": run.pk})
    return redirect(request.POST.get("next") == "run" and reverse("live-run", args=[pk, run.pk])
                    or reverse("live-dashboard", args=[pk]))


@login_required
@require_POST
def suspend(request, pk):
    sandbox = sandbox_for(request, pk, Cap.OVERSEE)
    try:
        _sandbox, halted = services.sandbox_suspend(sandbox=sandbox, actor=request.user,
                                                    reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc, {"reason": _("Reason")})
    else:
        messages.success(request, _("Testing suspended; %(count)s runs halted.")
                         % {"count": len(halted)})
    return redirect("live-dashboard", pk)


@login_required
@require_POST
def lift(request, pk):
    sandbox = sandbox_for(request, pk, Cap.OVERSEE)
    try:
        services.sandbox_lift_suspension(sandbox=sandbox, actor=request.user,
                                         reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("Suspension lifted; the sandbox is active again."))
    return redirect("live-dashboard", pk)


@login_required
@require_POST
def annotate(request, pk, run_pk):
    sandbox = sandbox_for(request, pk, Cap.OVERSEE)
    run = get_object_or_404(Run, pk=run_pk, sandbox=sandbox)
    labels = {"note": _("Note"), "severity": _("Severity"), "turn": _("Turn")}
    turn_id = request.POST.get("turn", "")
    if not run.turns.filter(pk=_int_or_none(turn_id)).exists():
        messages.error(request, f"{labels['turn']}: " + _("Choose a completed turn of this run."))
        return redirect("live-run", pk, run.pk)
    try:
        services.annotation_add(sandbox=sandbox, actor=request.user, turn_id=turn_id,
                                note=request.POST.get("note", ""),
                                severity=request.POST.get("severity", Severity.INFO))
    except ValidationError as exc:
        flash_errors(request, exc, labels)
    else:
        messages.success(request, _("Annotation saved."))
    return redirect("live-run", pk, run.pk)
