"""Per-model, per-objective means and the gated composite, with bootstrap intervals.

Unit of resampling: the item (one model's answer), not the single rating. The raters'
values are first averaged per item and objective, a model's mean is the mean of its item
means (each answer counts once, however many raters saw it), and the bootstrap draws
items with replacement. Ratings of one answer are correlated, so resampling ratings alone
would make the interval too narrow. One set of resampled items per model is shared by all
objectives and the composite, so their intervals come from the same resamples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .bootstrap import DEFAULT_CONFIDENCE, DEFAULT_SAMPLES, percentile_interval, resample_counts
from .records import Objective, Rating, RatingTable, as_table


@dataclass(frozen=True)
class ObjectiveSummary:
    """One model on one objective.

    ``mean``/``ci_low``/``ci_high`` are on the raw scale (for binary, the share of 1s) and
    None for categorical objectives or when no item was rated. ``counts`` holds rating
    counts per value for binary and categorical scales; ``proportions`` and
    ``proportion_ci`` (categorical only) are item-weighted shares per category: each item
    contributes the share of its raters who chose the category.
    """

    model_key: str
    objective: str
    scale_kind: str
    n_items: int
    n_ratings: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    counts: dict[str, int] | None = None
    proportions: dict[str, float] | None = None
    proportion_ci: dict[str, tuple[float, float]] | None = None


@dataclass(frozen=True)
class CompositeScore:
    """The composite of one answer.

    ``value`` is the weighted mean of the normalised objective scores in [0, 1], or None
    when the answer fails a gate (``failed_objectives`` names the gates) or misses a
    score the composite needs (``missing`` names them).
    """

    value: float | None
    fails_gate: bool
    failed_objectives: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompositeSummary:
    """One model's composite.

    ``mean`` is over complete answers, counting an answer that fails a gate as
    ``failed_value`` (or leaving it out when that is None); ``gate_failure_rate`` is the
    share of complete answers failing any gate; ``gate_failures`` counts failures per
    gated objective. ``n_incomplete`` answers lacked a needed score and are left out.
    """

    model_key: str
    n_items: int
    n_incomplete: int
    mean: float | None
    ci_low: float | None
    ci_high: float | None
    gate_failure_rate: float | None
    gate_ci_low: float | None
    gate_ci_high: float | None
    gate_failures: dict[str, int]


def answer_composite(
    scores: Mapping[str, float], objectives: Sequence[Objective]
) -> CompositeScore:
    """Return the composite of one answer from its per-objective scores (raw scale).

    Objectives with weight 0 and no gate are ignored. A gated objective below its
    floor fails the answer; otherwise the value is sum(w * normalised) / sum(w).
    """
    needed = [o for o in objectives if o.in_composite]
    missing = tuple(o.key for o in needed if scores.get(o.key) is None or math.isnan(scores[o.key]))
    if missing:
        return CompositeScore(None, False, missing=missing)
    failed = tuple(o.key for o in needed if o.gate is not None and scores[o.key] < o.gate)
    if failed:
        return CompositeScore(None, True, failed_objectives=failed)
    weighted = [o for o in needed if o.weight > 0]
    total = sum(o.weight for o in weighted)
    if total == 0:
        raise ValueError("the composite needs at least one objective with a positive weight")
    value = sum(o.weight * o.scale.normalise(scores[o.key]) for o in weighted) / total
    return CompositeScore(value, False)


def _model_rows(table: RatingTable) -> list[tuple[str, np.ndarray]]:
    order = sorted(range(len(table.model_keys)), key=lambda m: str(table.model_keys[m]))
    return [(table.model_keys[m], np.flatnonzero(table.item_model == m)) for m in order]


def _weighted_means(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ np.where(present, values, 0.0)) / (weights @ present)


def _none_if_nan(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def summarise_objectives(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
    *,
    samples: int = DEFAULT_SAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> dict[tuple[str, str], ObjectiveSummary]:
    """Mean and bootstrap percentile interval per (model_key, objective key).

    ``samples`` resamples of items (seeded by ``seed``, so results are reproducible).
    Models are processed in sorted order of their keys. With one item the interval is
    that item's mean; with ``samples=0`` the interval is None.
    """
    table = as_table(ratings, objectives)
    means, counts = table.item_means()
    rng = np.random.default_rng(seed)
    result: dict[tuple[str, str], ObjectiveSummary] = {}
    for model_key, rows in _model_rows(table):
        weights = resample_counts(rng, rows.size, samples) if samples else None
        m_means = means[rows]
        point = _weighted_means(np.ones((1, rows.size)), m_means)[0]
        boot = _weighted_means(weights, m_means) if weights is not None else None
        low, high = percentile_interval(boot, confidence) if boot is not None else (None, None)
        for j, objective in enumerate(table.objectives):
            rated = counts[rows, j] > 0
            n_items, n_ratings = int(rated.sum()), int(counts[rows, j].sum())
            extra = _value_counts(table, rows, j, objective, weights, confidence)
            mean, ci = None, (None, None)
            if objective.scale.numeric and n_items:
                mean = float(point[j])
                if low is not None:
                    ci = (_none_if_nan(low[j]), _none_if_nan(high[j]))
            result[(model_key, objective.key)] = ObjectiveSummary(
                model_key,
                objective.key,
                objective.scale.kind,
                n_items,
                n_ratings,
                mean,
                ci[0],
                ci[1],
                **extra,
            )
    return result


def _value_counts(
    table: RatingTable,
    rows: np.ndarray,
    j: int,
    objective: Objective,
    weights: np.ndarray | None,
    confidence: float,
) -> dict[str, Any]:
    scale = objective.scale
    if scale.kind == "likert":
        return {}
    n_values = len(scale.domain)
    item_pos = np.full(table.n_items, -1)
    item_pos[rows] = np.arange(rows.size)
    sel = (table.objective == j) & (item_pos[table.item] >= 0)
    pos, code = item_pos[table.item[sel]], table.value[sel].astype(np.int64)
    per_item = np.bincount(pos * n_values + code, minlength=rows.size * n_values)
    per_item = per_item.reshape(rows.size, n_values).astype(np.float64)
    names = [str(scale.decode(v)) for v in scale.domain]
    counts = {name: int(c) for name, c in zip(names, per_item.sum(axis=0), strict=True)}
    if scale.kind == "binary":
        return {"counts": counts}
    totals = per_item.sum(axis=1, keepdims=True)
    shares = np.where(totals > 0, per_item / np.where(totals > 0, totals, 1), np.nan)
    rated = (totals > 0).any()
    point = np.nanmean(shares, axis=0) if rated else np.full(n_values, np.nan)
    proportions = {name: _none_if_nan(p) for name, p in zip(names, point, strict=True)}
    proportion_ci = None
    if weights is not None and rated:
        low, high = percentile_interval(_weighted_means(weights, shares), confidence)
        proportion_ci = {
            name: (float(lo), float(hi)) for name, lo, hi in zip(names, low, high, strict=True)
        }
    return {"counts": counts, "proportions": proportions, "proportion_ci": proportion_ci}


def item_composites(
    table: RatingTable,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Vectorised :func:`answer_composite` over every item of ``table``.

    Returns (value, fails, complete, failed_by_gate): ``value`` in [0, 1] (NaN when
    failing or incomplete), boolean ``fails`` and ``complete`` per item, and a boolean
    (n_items, n_gated) matrix of which gates each item fails.
    """
    means, _ = table.item_means()
    needed = [j for j, o in enumerate(table.objectives) if o.in_composite]
    weighted = [j for j in needed if table.objectives[j].weight > 0]
    gated = [j for j in needed if table.objectives[j].gate is not None]
    if not weighted:
        raise ValueError("the composite needs at least one objective with a positive weight")
    complete = ~np.isnan(means[:, needed]).any(axis=1)
    floors = np.array([table.objectives[j].gate for j in gated], dtype=np.float64)
    failed_by_gate = (means[:, gated] < floors) & complete[:, None]
    fails = failed_by_gate.any(axis=1)
    w = np.array([table.objectives[j].weight for j in weighted])
    lows = np.array([table.objectives[j].scale.low for j in weighted])
    highs = np.array([table.objectives[j].scale.high for j in weighted])
    normalised = (means[:, weighted] - lows) / (highs - lows)
    value = normalised @ (w / w.sum())
    value[fails | ~complete] = np.nan
    return value, fails, complete, failed_by_gate


def summarise_composite(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
    *,
    failed_value: float | None = 0.0,
    samples: int = DEFAULT_SAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> dict[str, CompositeSummary]:
    """Composite mean and gate failure rate per model_key, with bootstrap intervals.

    An answer failing a gate counts as ``failed_value`` in the mean (default 0.0: the
    worst composite, so a model cannot buy back unsafe answers with helpful ones); pass
    None to average passing answers only. The failure rate is always reported beside it.
    Items are resampled as in :func:`summarise_objectives`.
    """
    table = as_table(ratings, objectives)
    value, fails, complete, failed_by_gate = item_composites(table)
    gated_keys = [o.key for o in table.objectives if o.in_composite and o.gate is not None]
    scored = np.where(fails, np.nan if failed_value is None else failed_value, value)
    rng = np.random.default_rng(seed)
    result: dict[str, CompositeSummary] = {}
    for model_key, all_rows in _model_rows(table):
        rows = all_rows[complete[all_rows]]
        n = rows.size
        columns = np.column_stack([scored[rows], fails[rows].astype(np.float64)])
        point = _weighted_means(np.ones((1, n)), columns)[0] if n else np.full(2, np.nan)
        low = high = np.full(2, np.nan)
        if samples and n:
            low, high = percentile_interval(
                _weighted_means(resample_counts(rng, n, samples), columns), confidence
            )
        failures = failed_by_gate[rows].sum(axis=0)
        result[model_key] = CompositeSummary(
            model_key=model_key,
            n_items=n,
            n_incomplete=all_rows.size - n,
            mean=_none_if_nan(point[0]),
            ci_low=_none_if_nan(low[0]),
            ci_high=_none_if_nan(high[0]),
            gate_failure_rate=_none_if_nan(point[1]),
            gate_ci_low=_none_if_nan(low[1]),
            gate_ci_high=_none_if_nan(high[1]),
            gate_failures={k: int(c) for k, c in zip(gated_keys, failures, strict=True)},
        )
    return result


def means_table(
    summaries: Mapping[tuple[str, str], ObjectiveSummary],
    composites: Mapping[str, CompositeSummary] | None = None,
) -> dict[str, dict[str, float | None]]:
    """Pivot summaries to {model_key: {objective: mean}} (the Pareto input).

    Categorical objectives have no mean and are left out. With ``composites`` a
    ``"composite"`` column is added.
    """
    table: dict[str, dict[str, float | None]] = {}
    for (model_key, objective), summary in summaries.items():
        if summary.scale_kind != "categorical":
            table.setdefault(model_key, {})[objective] = summary.mean
    for model_key, composite in (composites or {}).items():
        table.setdefault(model_key, {})["composite"] = composite.mean
    return table


__all__ = [
    "CompositeScore",
    "CompositeSummary",
    "ObjectiveSummary",
    "answer_composite",
    "item_composites",
    "means_table",
    "summarise_composite",
    "summarise_objectives",
]
