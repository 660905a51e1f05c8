"""A sandbox's results: per-model objective means, composite, Pareto front, Bradley–Terry
ranking, agreement and rater quality, computed from the current ratings.

Which ratings count: the latest version of each expert's rating, on items that are not
gold and not excluded by an adjudicator, on the objectives of the current rubric (a
value that no longer fits its objective's scale is left out and counted in
``counts.dropped_values``). An item an adjudicator resolved counts with the
adjudicated values instead of the raters' mean; agreement and rater quality always use
the experts' own ratings (gold items included for rater quality).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domains.models import DomainModel
from sandbox.ratings.models import Adjudication, Decision, ItemStatus, Rating, RatingItem, Rubric
from sandbox.ratings.rubric_format import (
    OVERALL,
    localised,
    objectives_for_stats,
    preference_objectives,
)
from sandbox.ratings.stats import (
    Objective,
    RatingTable,
    alpha_by_objective,
    bradley_terry,
    means_table,
    pareto_front,
    rater_quality,
    summarise_composite,
    summarise_objectives,
)
from sandbox.ratings.stats import Rating as StatRating

ADJUDICATOR = "adjudicator"
PAIR_MODEL = "pair"
PREF_PREFIX = "pref."


def _encodable(objective, value) -> bool:
    try:
        objective.scale.encode(value)
    except ValueError:
        return False
    return True


def _resolved(sandbox) -> dict:
    """item_id -> adjudicated values, for items whose last decision was "resolve"."""
    resolved = {}
    for item_id, decision, values in (Adjudication.objects.filter(
            sandbox=sandbox, item__status=ItemStatus.ADJUDICATED, item__excluded=False)
            .order_by("created_at").values_list("item_id", "decision", "values")):
        if decision == Decision.RESOLVE:
            resolved[item_id] = values
        else:
            resolved.pop(item_id, None)
    return resolved


class Records:
    """The current ratings of a sandbox, checked against the current rubric, in three cuts.

    ``singles(...)`` gives ``stats.Rating`` records of single answers, ``preferences(...)``
    dicts for ``stats.bradley_terry`` (``objective`` None = overall). ``gold=True`` keeps
    gold items (for rater quality); ``adjudicated=True`` replaces a resolved item's
    ratings by the adjudicator's values (for model results).
    """

    def __init__(self, sandbox, rubric: Rubric):
        self.objectives = objectives_for_stats(rubric.objectives)
        self.pref_objectives = preference_objectives(rubric.objectives)
        self._by_key = {o.key: o for o in self.objectives}
        self._pref_by_key = {o.key: o for o in self.pref_objectives}
        self._resolved = _resolved(sandbox)
        self.dropped = 0
        self._rows = []
        ratings = (Rating.objects.current()
                   .filter(sandbox=sandbox, item__excluded=False)
                   .values_list("item_id", "item__kind", "item__is_gold", "item__model_a_id",
                                "item__model_b_id", "rater__username", "values"))
        for item_id, kind, is_gold, model_a, model_b, rater, values in ratings:
            checked = {}
            by_key = self._pref_by_key if kind == "pair" else self._by_key
            for key, value in values.items():
                if key in by_key and _encodable(by_key[key], value):
                    checked[key] = value
                else:
                    self.dropped += 1
            self._rows.append((item_id, kind, is_gold, str(model_a), str(model_b), rater,
                               checked))

    def _select(self, kind: str, *, gold: bool, adjudicated: bool):
        done = set()
        for item_id, row_kind, is_gold, model_a, model_b, rater, values in self._rows:
            if row_kind != kind or (is_gold and not gold):
                continue
            if adjudicated and item_id in self._resolved:
                if item_id in done:
                    continue
                done.add(item_id)
                rater, values = ADJUDICATOR, self._resolved[item_id]
            yield item_id, model_a, model_b, rater, values

    def singles(self, *, gold=False, adjudicated=True) -> list[StatRating]:
        return [StatRating(item_id, model_a, rater, key, value)
                for item_id, model_a, _b, rater, values in self._select(
                    "single", gold=gold, adjudicated=adjudicated)
                for key, value in values.items()]

    def preferences(self, *, gold=False, adjudicated=True) -> list[dict]:
        return [{"item_id": item_id, "model_a": model_a, "model_b": model_b, "rater_id": rater,
                 "value": value, "objective": None if key == OVERALL else key}
                for item_id, model_a, model_b, rater, values in self._select(
                    "pair", gold=gold, adjudicated=adjudicated)
                for key, value in values.items()]


def _bt(prefs: list[dict], objective: str | None, labels: dict, samples: int) -> dict | None:
    relevant = [p for p in prefs if p["objective"] == objective]
    if not relevant:
        return None
    result = bradley_terry(relevant, objective=objective, samples=samples)
    return {
        "models": [{"model": m, "label": labels.get(m, m), "rating": result.ratings[m],
                    "ci_low": result.ci[m][0] if result.ci else None,
                    "ci_high": result.ci[m][1] if result.ci else None,
                    "battles": result.battles_per_model[m]} for m in result.models],
        "n_battles": result.n_battles, "n_ties": result.n_ties,
        "warnings": list(result.warnings),
    }


def _alpha_rows(table: RatingTable | None, kind: str, rename=lambda k: k) -> list[dict]:
    if table is None:
        return []
    return [{"objective": rename(key), "kind": kind, "alpha": a.alpha, "level": a.level,
             "n_items": a.n_items, "n_raters": a.n_raters, "n_ratings": a.n_ratings,
             "reading": a.reading, "reason": a.reason}
            for key, a in alpha_by_objective(table).items()]


def _quality(records: Records, gold_items: Iterable[RatingItem]) -> dict:
    pref_objectives = [Objective(PREF_PREFIX + o.key, o.scale, weight=1.0)
                       for o in records.pref_objectives]
    rows = [{"item_id": r.item_id, "model_key": r.model_key, "rater_id": r.rater_id,
             "objective": r.objective, "value": r.value}
            for r in records.singles(gold=True, adjudicated=False)]
    rows += [{"item_id": p["item_id"], "model_key": PAIR_MODEL, "rater_id": p["rater_id"],
              "objective": PREF_PREFIX + (p["objective"] or OVERALL), "value": p["value"]}
             for p in records.preferences(gold=True, adjudicated=False)]
    if not rows:
        return {}
    table = RatingTable.from_records(rows, [*records.objectives, *pref_objectives])
    known_items = set(table.item_keys)
    gold = {}
    for item in gold_items:
        if item.pk not in known_items:
            continue
        for key, value in (item.gold.get("values") or {}).items():
            name = PREF_PREFIX + key if item.is_pair else key
            if any(o.key == name for o in table.objectives):
                gold[(item.pk, name)] = value
    return rater_quality(table, gold=gold)


def compute_results(sandbox, *, samples: int = 1000, only_rater=None) -> dict[str, Any]:
    """Everything the results page and ``GET .../results/`` show, as JSON-ready data.

    ``only_rater``: a username whose row alone is kept in the per-rater table (experts
    see their own quality, not their colleagues').
    """
    rubric = Rubric.objects.current_for(sandbox)
    items = RatingItem.objects.filter(sandbox=sandbox)
    counts = {
        "items": items.filter(is_gold=False).count(),
        "single_items": items.filter(is_gold=False, kind="single").count(),
        "pair_items": items.filter(is_gold=False, kind="pair").count(),
        "complete_items": items.filter(is_gold=False, status__in=[
            ItemStatus.COMPLETE, ItemStatus.ADJUDICATED]).count(),
        "awaiting_adjudication": items.filter(status=ItemStatus.ADJUDICATION).count(),
        "excluded_items": items.filter(excluded=True).count(),
        "ratings": Rating.objects.current().filter(sandbox=sandbox).count(),
    }
    empty = {"released": sandbox.results_released, "rubric_version": None, "objectives": [],
             "models": [], "objective_means": [], "composite": [], "pareto": None,
             "bradley_terry": {}, "agreement": [], "raters": [], "counts": counts,
             "samples": samples}
    if rubric is None:
        return empty
    records = Records(sandbox, rubric)
    objectives = records.objectives
    singles, prefs = records.singles(), records.preferences()
    counts["dropped_values"] = records.dropped
    model_ids = {int(r.model_key) for r in singles} | {int(p[m]) for p in prefs
                                                       for m in ("model_a", "model_b")}
    labels = {str(m.pk): str(m) for m in DomainModel.objects.filter(pk__in=model_ids)}
    result = {**empty, "rubric_version": rubric.version,
              "objectives": [{k: o[k] for k in ("key", "label", "scale", "weight", "gate")}
                             for o in localised(rubric.objectives)],
              "models": [{"key": k, "label": v} for k, v in sorted(labels.items(),
                                                                  key=lambda kv: kv[1])]}
    if singles:
        table = RatingTable.from_records(singles, objectives)
        summaries = summarise_objectives(table, samples=samples)
        composites = summarise_composite(table, samples=samples)
        result["objective_means"] = [
            {"model": s.model_key, "objective": s.objective, "mean": s.mean,
             "ci_low": s.ci_low, "ci_high": s.ci_high, "n_items": s.n_items,
             "n_ratings": s.n_ratings, "counts": s.counts, "proportions": s.proportions}
            for s in summaries.values()]
        result["composite"] = [
            {"model": c.model_key, "mean": c.mean, "ci_low": c.ci_low, "ci_high": c.ci_high,
             "n_items": c.n_items, "n_incomplete": c.n_incomplete,
             "gate_failure_rate": c.gate_failure_rate, "gate_ci_low": c.gate_ci_low,
             "gate_ci_high": c.gate_ci_high, "gate_failures": c.gate_failures}
            for c in composites.values()]
        numeric = [o.key for o in objectives if o.scale.numeric]
        front = pareto_front(means_table(summaries), numeric)
        result["pareto"] = {"objectives": list(front.objectives), "front": list(front.front),
                            "dominated_by": {k: list(v) for k, v in front.dominated_by.items()},
                            "excluded": front.excluded}
        raw = records.singles(adjudicated=False)
        result["agreement"] += _alpha_rows(RatingTable.from_records(raw, objectives), "score")
    if prefs:
        bt = {OVERALL: _bt(prefs, None, labels, samples)}
        for o in objectives:
            if o.scale.numeric:
                bt[o.key] = _bt(prefs, o.key, labels, samples)
        result["bradley_terry"] = {k: v for k, v in bt.items() if v is not None}
        rows = [{"item_id": p["item_id"], "model_key": PAIR_MODEL, "rater_id": p["rater_id"],
                 "objective": p["objective"] or OVERALL, "value": p["value"]}
                for p in records.preferences(adjudicated=False)]
        result["agreement"] += _alpha_rows(
            RatingTable.from_records(rows, records.pref_objectives), "preference")
    gold_items = RatingItem.objects.filter(sandbox=sandbox, is_gold=True, excluded=False)
    quality = _quality(records, gold_items)
    result["raters"] = [
        {"rater": q.rater_id, "n_ratings": q.n_ratings, "n_items": q.n_items, "n_gold": q.n_gold,
         "gold_accuracy": q.gold_accuracy, "mean_deviation": q.mean_deviation,
         "agreement": None if q.mean_deviation is None else 1.0 - q.mean_deviation}
        for q in quality.values() if only_rater is None or q.rater_id == only_rater]
    result["raters"].sort(key=lambda r: r["rater"])
    return result
