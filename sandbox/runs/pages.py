"""Pages for runs: the list with a start form and a one-click demo run, and a run's page with
its progress bar and every transcript (model output always escaped, never executed)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from domains.models import DomainModel
from sandbox.core.pages.access import sandbox_for
from sandbox.core.roles import Cap, can
from sandbox.live.models import Annotation
from sandbox.runs import control, services
from sandbox.runs.models import Alert, Run, Session, Turn
from scenarios.models import Scenario


def _subject_models(sandbox):
    return DomainModel.objects.filter(sandbox=sandbox, is_active=True, role="subject")


@login_required
def run_list(request, pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    runs = Run.objects.filter(sandbox=sandbox).select_related("started_by")[:100]
    return render(request, "runs/run_list.html", {
        "sandbox": sandbox, "runs": runs,
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
        "models": _subject_models(sandbox),
        "scenarios": Scenario.objects.filter(sandbox=sandbox, retired=False).order_by(
            "kind", "scenario_id"),
    })


def _start(request, sandbox, **kwargs):
    try:
        run = services.run_start(sandbox=sandbox, started_by=request.user, **kwargs)
    except (PermissionDenied, ValidationError, ValueError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, text or _("This run cannot start."))
        return redirect("run-list", sandbox.pk)
    messages.success(request, _("Run %(id)s started.") % {"id": run.pk})
    return redirect("run-detail", sandbox.pk, run.pk)


@login_required
@require_POST
def run_start(request, pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    models = list(_subject_models(sandbox).filter(pk__in=request.POST.getlist("models")))
    chosen = request.POST.getlist("scenarios")
    scenarios = list(Scenario.objects.filter(sandbox=sandbox, pk__in=chosen)) if chosen else None
    return _start(request, sandbox, models=models, scenarios=scenarios,
                  with_variants=request.POST.get("variants") == "on")


@login_required
@require_POST
def run_demo(request, pk):
    """One click: every scenario of the sandbox against every active model, with variants."""
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    return _start(request, sandbox, models=list(_subject_models(sandbox)), scenarios=None,
                  with_variants=True)


@login_required
def run_detail(request, pk, run_pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    run = get_object_or_404(Run.objects.select_related("started_by", "halted_by"),
                            sandbox=sandbox, pk=run_pk)
    turns = Turn.objects.order_by("index").prefetch_related(
        "checks", Prefetch("alerts", queryset=Alert.objects.select_related("check_result")),
        Prefetch("annotations", queryset=Annotation.objects.select_related("author")))
    sessions = Session.objects.filter(run=run).select_related("scenario", "model") \
        .prefetch_related(Prefetch("turns", queryset=turns)).order_by("scenario__scenario_id",
                                                                       "variant_id", "model")
    model_filter, scenario_filter = request.GET.get("model", ""), request.GET.get("scenario", "")
    if model_filter:
        sessions = sessions.filter(model_id=model_filter)
    if scenario_filter:
        sessions = sessions.filter(scenario__scenario_id=scenario_filter)
    return render(request, "runs/run_detail.html", {
        "sandbox": sandbox, "run": run, "sessions": sessions[:200],
        "models": DomainModel.objects.filter(sessions__run=run).distinct(),
        "scenario_ids": run.sessions.values_list("scenario__scenario_id", flat=True)
        .distinct().order_by("scenario__scenario_id"),
        "model_filter": model_filter, "scenario_filter": scenario_filter,
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
        "can_oversee": can(sandbox.my_role, Cap.OVERSEE),
    })


@login_required
@require_POST
def run_cancel(request, pk, run_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    run = get_object_or_404(Run, sandbox=sandbox, pk=run_pk)
    try:
        control.run_stop(run=run, status="cancelled", actor=request.user,
                         reason=request.POST.get("reason", ""))
    except control.RunAlreadyFinished:
        messages.error(request, _("This run has already finished."))
    else:
        messages.success(request, _("Run cancelled."))
    return redirect("run-detail", sandbox.pk, run.pk)
