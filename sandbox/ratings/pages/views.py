"""Pages: the expert's rating page, the operator's rating setup, and the results.

The rating page shows exactly what :func:`sandbox.ratings.blind.blind_item` holds; the
form posts to this app, which calls the same services as the API.
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sandbox.core.pages.access import sandbox_for
from sandbox.core.roles import Cap, can
from sandbox.ratings import services
from sandbox.ratings.blind import blind_item
from sandbox.ratings.exports import CSV_LONG, EXPORT_FORMATS
from sandbox.ratings.models import (
    Assignment,
    Decision,
    ItemStatus,
    RatingConfig,
    RatingItem,
    Rubric,
)
from sandbox.ratings.results import compute_results
from sandbox.ratings.rubric_format import default_objectives, localised
from sandbox.ratings.services.submissions import item_agreement
from sandbox.ratings.services.values import parse_uuid
from sandbox.runs.models import Run

PAIR_POINTS = [(-3, "1"), (-2, "2"), (-1, "3"), (0, "4"), (1, "5"), (2, "6"), (3, "7")]


def _errors(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [f"{field}: {message}" for field, msgs in exc.message_dict.items()
                for message in msgs]
    return list(exc.messages)


def _posted_values(post, item: dict) -> dict:
    values = {}
    if item["kind"] == "pair":
        keys = item["rubric"]["preference_keys"]
    else:
        keys = [o["key"] for o in item["rubric"]["objectives"]]
    categorical = {o["key"] for o in item["rubric"]["objectives"] if o["scale"] == "categorical"}
    for key in keys:
        raw = post.get(f"value-{key}")
        if raw in (None, ""):
            continue
        if key in categorical and item["kind"] != "pair":
            values[key] = raw
        else:
            try:
                values[key] = int(raw)
            except ValueError:
                values[key] = raw
    return values


def _rate_context(sandbox, item: dict | None, posted: dict | None = None) -> dict:
    posted = posted or {}
    chosen = posted.get("values", {})
    rows = []
    if item is not None:
        if item["kind"] == "pair":
            labels = {o["key"]: o for o in item["rubric"]["objectives"]}
            for key in item["rubric"]["preference_keys"]:
                objective = labels.get(key)
                rows.append({
                    "key": key,
                    "label": objective["label"] if objective else _("Overall"),
                    "description": objective["description"] if objective else _(
                        "All things considered, which answer is better?"),
                    "points": [{"value": v, "hotkey": k, "anchor": _pair_anchor(v),
                                "checked": chosen.get(key) == v} for v, k in PAIR_POINTS],
                })
        else:
            for objective in item["rubric"]["objectives"]:
                points = objective["points"]
                hotkeys = _hotkeys(objective["scale"], len(points))
                rows.append({
                    "key": objective["key"], "label": objective["label"],
                    "description": objective["description"], "gate": objective["gate"],
                    "points": [{"value": p["value"], "hotkey": hotkeys[i], "anchor": p["anchor"],
                                "checked": chosen.get(objective["key"]) == p["value"]}
                               for i, p in enumerate(points)],
                })
    return {"sandbox": sandbox, "item": item, "rows": rows,
            "posted_flags": posted.get("flags", []),
            "posted_rationale": posted.get("rationale", "")}


def _hotkeys(scale: str, n: int) -> list[str]:
    if scale in ("likert-0-4", "binary"):
        return [str(i) for i in range(n)]
    return [str(i + 1) if i < 9 else "" for i in range(n)]


def _pair_anchor(value: int) -> str:
    return {
        -3: _("Left (A) much better"), -2: _("Left (A) better"),
        -1: _("Left (A) slightly better"), 0: _("About the same"),
        1: _("Right (B) slightly better"), 2: _("Right (B) better"),
        3: _("Right (B) much better"),
    }[value]


def _progress(sandbox, user):
    return services.queue_progress(sandbox=sandbox, expert=user)


@login_required
def rate(request, pk):
    sandbox = sandbox_for(request, pk, Cap.RATE)
    lease = services.assignment_next(sandbox=sandbox, expert=request.user)
    item = None
    if lease is not None:
        rubric = services.rubric_ensure(sandbox=sandbox)
        item = blind_item(lease.item, rubric=rubric, lease=lease,
                          progress=_progress(sandbox, request.user))
    context = _rate_context(sandbox, item)
    context["progress"] = item["progress"] if item else _progress(sandbox, request.user).__dict__
    return render(request, "ratings/rate.html", context)


@login_required
@require_POST
def rate_submit(request, pk):
    sandbox = sandbox_for(request, pk, Cap.RATE)
    posted_item = request.POST.get("item", "")
    lease = (Assignment.objects.filter(sandbox=sandbox, expert=request.user,
                                       item_id=parse_uuid(posted_item))
             .select_related("item").first())
    if lease is None:
        messages.error(request, _("This item is not leased to you."))
        return redirect("ratings-rate", pk=sandbox.pk)
    rubric = services.rubric_ensure(sandbox=sandbox)
    item = blind_item(lease.item, rubric=rubric, lease=lease,
                      progress=_progress(sandbox, request.user))
    posted = {"values": _posted_values(request.POST, item),
              "flags": request.POST.getlist("flags"),
              "rationale": request.POST.get("rationale", "")}
    try:
        services.rating_submit(sandbox=sandbox, rater=request.user, item_id=posted_item,
                               values=posted["values"], rationale=posted["rationale"],
                               flags=posted["flags"],
                               rubric_version=request.POST.get("rubric_version"))
    except ValidationError as exc:
        context = _rate_context(sandbox, item, posted)
        context["progress"] = item["progress"]
        context["errors"] = _errors(exc)
        return render(request, "ratings/rate.html", context, status=400)
    messages.success(request, _("Rating saved."))
    return redirect(reverse("ratings-rate", args=[sandbox.pk]) + f"?saved={posted_item}")


@login_required
@require_POST
def rate_skip(request, pk):
    sandbox = sandbox_for(request, pk, Cap.RATE)
    try:
        services.assignment_skip(sandbox=sandbox, expert=request.user,
                                 item_id=request.POST.get("item"),
                                 reason=request.POST.get("reason", ""))
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    else:
        messages.success(request, _("Item skipped."))
    return redirect("ratings-rate", pk=sandbox.pk)


@login_required
def setup(request, pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    rubric = Rubric.objects.current_for(sandbox)
    objectives = rubric.objectives if rubric else default_objectives(sandbox.vertical)
    items = RatingItem.objects.in_sandbox(sandbox)
    waiting = []
    for item in (items.filter(status=ItemStatus.ADJUDICATION)
                 .select_related("model_a", "model_b").order_by("created_at")[:20]):
        waiting.append({
            "item": item,
            "agreement": sorted(item_agreement(item, rubric).items()) if rubric else [],
            "ratings": item.ratings.current().select_related("rater").order_by("created_at"),
        })
    counts = {status.label: items.filter(status=status, is_gold=False).count()
              for status in ItemStatus}
    return render(request, "ratings/setup.html", {
        "sandbox": sandbox, "rubric": rubric, "objectives": localised(objectives),
        "objectives_json": json.dumps(objectives, ensure_ascii=False, indent=2),
        "config": RatingConfig.of(sandbox), "runs": Run.objects.filter(sandbox=sandbox)[:50],
        "counts": counts, "gold_count": items.filter(is_gold=True).count(),
        "waiting": waiting, "decisions": Decision.choices,
    })


def _setup_action(request, pk, action) -> object:
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    try:
        message = action(sandbox)
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    else:
        messages.success(request, message)
    return redirect("ratings-setup", pk=sandbox.pk)


@login_required
@require_POST
def rubric_save(request, pk):
    def action(sandbox):
        try:
            objectives = json.loads(request.POST.get("objectives", ""))
        except json.JSONDecodeError as exc:
            raise ValidationError({"objectives": [_("Not valid JSON: %(error)s")
                                                  % {"error": exc}]}) from None
        rubric = services.rubric_create(sandbox=sandbox, actor=request.user,
                                        objectives=objectives,
                                        note=request.POST.get("note", ""))
        return _("Rubric version %(version)s saved.") % {"version": rubric.version}
    return _setup_action(request, pk, action)


@login_required
@require_POST
def rubric_defaults(request, pk):
    def action(sandbox):
        rubric = services.rubric_create(sandbox=sandbox, actor=request.user,
                                        objectives=default_objectives(sandbox.vertical),
                                        note="vertical defaults")
        return _("Rubric version %(version)s saved.") % {"version": rubric.version}
    return _setup_action(request, pk, action)


def _number(post, name, kind):
    raw = post.get(name, "")
    try:
        return kind(raw)
    except ValueError:
        raise ValidationError({name: [_("Give a number.")]}) from None


@login_required
@require_POST
def settings_save(request, pk):
    def action(sandbox):
        services.rating_config_update(
            sandbox=sandbox, actor=request.user,
            raters_per_item=_number(request.POST, "raters_per_item", int),
            gold_rate=_number(request.POST, "gold_rate", float),
            lease_minutes=_number(request.POST, "lease_minutes", int),
            agreement_floor=_number(request.POST, "agreement_floor", float))
        return _("Rating settings saved.")
    return _setup_action(request, pk, action)


@login_required
@require_POST
def items_generate(request, pk):
    def action(sandbox):
        run = Run.objects.filter(sandbox=sandbox, pk=_number(request.POST, "run", int)).first()
        if run is None:
            raise ValidationError({"run": [_("No run with this id in this sandbox.")]})
        created = services.rating_items_create_for_run(run=run, actor=request.user)
        return _("%(count)s new rating items.") % {"count": created}
    return _setup_action(request, pk, action)


@login_required
@require_POST
def adjudicate(request, pk, item_id):
    def action(sandbox):
        item = RatingItem.objects.in_sandbox(sandbox).filter(pk=parse_uuid(item_id)).first()
        if item is None:
            raise Http404
        values = None
        if request.POST.get("decision") == Decision.RESOLVE:
            try:
                values = json.loads(request.POST.get("values") or "{}")
            except json.JSONDecodeError as exc:
                raise ValidationError({"values": [_("Not valid JSON: %(error)s")
                                                  % {"error": exc}]}) from None
        services.item_adjudicate(item=item, actor=request.user,
                                 decision=request.POST.get("decision", ""), values=values,
                                 extra_raters=_number(request.POST, "extra_raters", int)
                                 if request.POST.get("extra_raters") else 0,
                                 note=request.POST.get("note", ""))
        return _("Decision saved.")
    return _setup_action(request, pk, action)


@login_required
@require_POST
def release(request, pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    try:
        services.results_release(sandbox=sandbox, actor=request.user)
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    else:
        messages.success(request, _("Results released to the sandbox's experts."))
    return redirect("ratings-results", pk=sandbox.pk)


@login_required
def results(request, pk):
    sandbox = sandbox_for(request, pk, Cap.RESULTS)
    full = can(sandbox.my_role, Cap.RESULTS)
    data = compute_results(sandbox, only_rater=None if full else request.user.get_username())
    labels = {m["key"]: m["label"] for m in data["models"]}
    objective_labels = {o["key"]: o["label"] for o in data["objectives"]}
    means = {(r["model"], r["objective"]): r for r in data["objective_means"]}
    table = [{"label": m["label"], "cells": [means.get((m["key"], o["key"]))
                                             for o in data["objectives"]]}
             for m in data["models"]]
    return render(request, "ratings/results.html", {
        "sandbox": sandbox, "data": data, "labels": labels, "means_table": table,
        "composite": [{**c, "label": labels.get(c["model"], c["model"])}
                      for c in data["composite"]],
        "front": [labels.get(m, m) for m in (data["pareto"] or {}).get("front", [])],
        "dominated": [{"label": labels.get(m, m), "by": [labels.get(x, x) for x in by]}
                      for m, by in ((data["pareto"] or {}).get("dominated_by") or {}).items()],
        "bt": [{"key": key, "label": objective_labels.get(key, _("Overall")), **value}
               for key, value in data["bradley_terry"].items()],
        "objective_labels": objective_labels,
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
        "can_export": full and sandbox.results_released,
        "export_formats": EXPORT_FORMATS, "csv_long": CSV_LONG,
        "criteria": [("composite", _("Composite"))] + [
            (o["key"], o["label"]) for o in data["objectives"] if o["scale"] != "categorical"],
        "chart_data": {
            "models": data["models"], "objectives": data["objectives"],
            "means": data["objective_means"], "pareto": data["pareto"],
            "agreement": data["agreement"],
        },
    })
