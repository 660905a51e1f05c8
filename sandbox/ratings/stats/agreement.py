"""Agreement between raters: Krippendorff's alpha, per-rater quality, per-item spread.

Alpha comes from the ``krippendorff`` package (alpha = 1 - D_o / D_e). Its level of
measurement per objective is the objective's ``measurement_level``: ordinal for Likert,
nominal for binary and categorical, unless the objective asks for interval.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import krippendorff
import numpy as np

from .records import Objective, Rating, RatingTable, as_table

RELIABLE = 0.800
TENTATIVE = 0.667


@dataclass(frozen=True)
class AlphaResult:
    """Krippendorff's alpha for one objective.

    ``alpha`` is None when it is undefined, and ``reason`` says why. ``n_items`` and
    ``n_raters`` count the items with two or more ratings (the only ones alpha uses)
    and the raters who rated them; ``n_ratings`` the ratings on those items.
    ``reading``: "reliable" (alpha >= 0.800), "tentative" (0.667 <= alpha < 0.800) or
    "needs work" (below 0.667: the objective's guideline needs work).
    """

    objective: str
    level: str
    alpha: float | None
    n_items: int
    n_raters: int
    n_ratings: int
    reading: str | None
    reason: str | None = None


def reading(alpha: float) -> str:
    """Rule-of-thumb reading of an alpha value (Krippendorff's 0.800 / 0.667 cut-offs)."""
    if alpha >= RELIABLE:
        return "reliable"
    if alpha >= TENTATIVE:
        return "tentative"
    return "needs work"


def _get(record: Any, name: str) -> Any:
    return record[name] if isinstance(record, Mapping) else getattr(record, name)


def _value_index(table: RatingTable, j: int, values: np.ndarray) -> np.ndarray:
    return (values - table.objectives[j].scale.domain[0]).astype(np.int64)


def krippendorff_alpha(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objective: str,
    objectives: Sequence[Objective] | None = None,
    *,
    level: str | None = None,
) -> AlphaResult:
    """Krippendorff's alpha of the raters on ``objective``.

    The per-item value counts are passed to ``krippendorff.alpha`` (equivalent to its
    raters x items matrix with NaN for missing ratings), over the scale's full value
    domain. ``level`` overrides the objective's level. Never raises for degenerate
    data: no item rated twice, or no variance, gives alpha None with a reason.
    """
    table = as_table(ratings, objectives)
    j = table.objective_index(objective)
    obj = table.objectives[j]
    level = level or obj.measurement_level
    sel = table.objective == j
    items, raters = table.item[sel], table.rater[sel]
    codes = _value_index(table, j, table.value[sel])
    n_values = len(obj.scale.domain)
    per_item = np.bincount(items, minlength=table.n_items)
    pairable = per_item[items] >= 2
    n_items = int(np.count_nonzero(per_item >= 2))
    n_raters = int(np.unique(raters[pairable]).size)
    n_ratings = int(np.count_nonzero(pairable))

    def undefined(reason: str) -> AlphaResult:
        return AlphaResult(objective, level, None, n_items, n_raters, n_ratings, None, reason)

    if n_items == 0:
        return undefined("no item has ratings from two or more raters")
    if np.unique(codes[pairable]).size < 2:
        return undefined("every rating on the shared items has the same value (no variance)")
    _, compact = np.unique(items[pairable], return_inverse=True)
    counts = np.bincount(compact * n_values + codes[pairable], minlength=n_items * n_values)
    value = float(
        krippendorff.alpha(
            value_counts=counts.reshape(n_items, n_values),
            value_domain=list(obj.scale.domain),
            level_of_measurement=level,
        )
    )
    if not math.isfinite(value):
        return undefined("expected disagreement is zero")
    return AlphaResult(objective, level, value, n_items, n_raters, n_ratings, reading(value))


def alpha_by_objective(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
    *,
    levels: Mapping[str, str] | None = None,
) -> dict[str, AlphaResult]:
    """:func:`krippendorff_alpha` for every objective, keyed by objective key."""
    table = as_table(ratings, objectives)
    levels = levels or {}
    return {
        o.key: krippendorff_alpha(table, o.key, level=levels.get(o.key)) for o in table.objectives
    }


@dataclass(frozen=True)
class RaterQuality:
    """Quality figures for one rater.

    ``gold_accuracy``: share of the rater's ratings on gold items within the tolerance
    of the gold value (None without gold ratings). ``mean_deviation``: mean, over the
    rater's ratings on items others also rated, of the distance to the others (see
    :func:`rater_quality`); 0 is perfect agreement, 1 the worst. None when the rater
    shares no item.
    """

    rater_id: Hashable
    n_ratings: int
    n_items: int
    n_gold: int
    gold_accuracy: float | None
    n_compared: int
    mean_deviation: float | None
    deviation_by_objective: dict[str, float]


def _cell_stats(table: RatingTable) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per rating: its (item, objective) cell, the cell's count, sum, and same-value count."""
    k = len(table.objectives)
    n_values = max(len(o.scale.domain) for o in table.objectives)
    cell = table.item * k + table.objective
    size = table.n_items * k
    count = np.bincount(cell, minlength=size)
    total = np.bincount(cell, weights=table.value, minlength=size)
    lows = np.array([o.scale.domain[0] for o in table.objectives])
    code = (table.value - lows[table.objective]).astype(np.int64)
    same = np.bincount(cell * n_values + code, minlength=size * n_values)
    return cell, count, total, same[cell * n_values + code]


def rater_quality(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
    *,
    gold: Mapping[tuple[Hashable, str], Any] | None = None,
    tolerance: float | Mapping[str, float] | None = None,
) -> dict[Hashable, RaterQuality]:
    """Gold accuracy and agreement with the other raters, per rater_id.

    ``gold`` maps (item_id, objective key) to the known answer. ``tolerance`` is the
    largest distance in scale points that still counts as correct; by default 1 point on
    Likert scales (adjacent agreement) and 0 (exact match) on binary and categorical
    ones; a number applies to every numeric objective, a mapping per objective key.

    Deviation from the others, per rating on an item that others also rated: for
    ordinal and interval objectives the absolute difference from the leave-one-out mean
    of the other raters, divided by the scale's span (so it lies in [0, 1]); for nominal
    objectives the share of the other raters who chose a different value.
    """
    table = as_table(ratings, objectives)
    tol = np.array([_tolerance(o, tolerance) for o in table.objectives])
    cell, count, total, same = _cell_stats(table)
    n_cell = count[cell]
    shared = n_cell >= 2
    span = np.array([o.scale.high - o.scale.low for o in table.objectives])[table.objective]
    nominal = np.array([o.measurement_level == "nominal" for o in table.objectives])
    with np.errstate(invalid="ignore", divide="ignore"):
        loo_mean = (total[cell] - table.value) / (n_cell - 1)
        deviation = np.where(
            nominal[table.objective],
            (n_cell - same) / (n_cell - 1),
            np.abs(table.value - loo_mean) / span,
        )
    gold_value = np.full(count.size, np.nan)
    item_index = {key: i for i, key in enumerate(table.item_keys)}
    for (item_id, key), answer in (gold or {}).items():
        if item_id in item_index:
            j = table.objective_index(key)
            gold_value[item_index[item_id] * len(table.objectives) + j] = table.objectives[
                j
            ].scale.encode(answer)
    gold_of = gold_value[cell]
    on_gold = ~np.isnan(gold_of)
    correct = on_gold & (np.abs(table.value - gold_of) <= tol[table.objective] + 1e-9)

    result: dict[Hashable, RaterQuality] = {}
    order = np.argsort(table.rater, kind="stable")
    bounds = np.searchsorted(table.rater[order], np.arange(len(table.rater_keys) + 1))
    for r, rater_id in enumerate(table.rater_keys):
        idx = order[bounds[r] : bounds[r + 1]]
        mine_shared = idx[shared[idx]]
        n_gold = int(on_gold[idx].sum())
        by_objective = {
            o.key: float(deviation[mine_shared][table.objective[mine_shared] == j].mean())
            for j, o in enumerate(table.objectives)
            if np.any(table.objective[mine_shared] == j)
        }
        result[rater_id] = RaterQuality(
            rater_id=rater_id,
            n_ratings=int(idx.size),
            n_items=int(np.unique(table.item[idx]).size),
            n_gold=n_gold,
            gold_accuracy=float(correct[idx].sum() / n_gold) if n_gold else None,
            n_compared=int(mine_shared.size),
            mean_deviation=float(deviation[mine_shared].mean()) if mine_shared.size else None,
            deviation_by_objective=by_objective,
        )
    return result


def _tolerance(objective: Objective, tolerance: float | Mapping[str, float] | None) -> float:
    if isinstance(tolerance, Mapping):
        tolerance = tolerance.get(objective.key)
    if not objective.scale.numeric:
        return 0.0
    if tolerance is None:
        return 1.0 if objective.scale.kind == "likert" else 0.0
    return float(tolerance)


@dataclass(frozen=True)
class ItemAgreement:
    """Spread of the ratings of one item on one objective.

    ``disagreement`` lies in [0, 1]: for ordinal and interval objectives the range
    (max - min) over the scale's span; for nominal ones 1 - the modal value's share.
    ``value_range`` and ``std`` (population) are on the raw scale, None for categorical.
    """

    item_id: Hashable
    objective: str
    n_ratings: int
    disagreement: float
    value_range: float | None
    std: float | None


def item_agreement(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
) -> list[ItemAgreement]:
    """Disagreement per (item, objective) with at least one rating, in table order.

    A single rating has disagreement 0.
    """
    table = as_table(ratings, objectives)
    k = len(table.objectives)
    cell, count, total, same = _cell_stats(table)
    size = count.size
    lo = np.full(size, np.inf)
    hi = np.full(size, -np.inf)
    np.minimum.at(lo, cell, table.value)
    np.maximum.at(hi, cell, table.value)
    modal = np.zeros(size, dtype=np.int64)
    np.maximum.at(modal, cell, same)
    squares = np.bincount(cell, weights=table.value**2, minlength=size)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    result = []
    for c in np.flatnonzero(count):
        obj = table.objectives[c % k]
        if obj.measurement_level == "nominal":
            spread = 1.0 - modal[c] / count[c]
        else:
            spread = (hi[c] - lo[c]) / (obj.scale.high - obj.scale.low)
        numeric = obj.scale.numeric
        result.append(
            ItemAgreement(
                item_id=table.item_keys[c // k],
                objective=obj.key,
                n_ratings=int(count[c]),
                disagreement=float(spread),
                value_range=float(hi[c] - lo[c]) if numeric else None,
                std=float(std[c]) if numeric else None,
            )
        )
    return result


def disagreement(values: Sequence[Any], objective: Objective | None = None) -> float:
    """Disagreement of one item's ratings on one objective.

    With ``objective``: the normalised measure of :class:`ItemAgreement`. Without it:
    the raw range (max - min) for numbers, 1 - the modal share for anything else.
    Fewer than two values give 0.
    """
    if len(values) < 2:
        return 0.0
    nominal = objective.measurement_level == "nominal" if objective else None
    numeric = all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
        for v in values
    )
    if nominal or (objective is None and not numeric):
        return 1.0 - Counter(values).most_common(1)[0][1] / len(values)
    spread = float(max(values) - min(values))
    if objective is None:
        return spread
    return spread / (objective.scale.high - objective.scale.low)


def needs_adjudication(
    item_ratings: Iterable[Rating | Mapping[str, Any]] | Mapping[str, Sequence[Any]],
    threshold: float,
    *,
    objectives: Sequence[Objective] | None = None,
) -> list[str]:
    """Objective keys on which one item's ratings disagree by ``threshold`` or more.

    ``item_ratings`` is either the item's rating records or {objective: [values]}.
    With ``objectives`` the threshold is on the normalised [0, 1] measure of
    :func:`disagreement` (e.g. 0.5 = two points apart on a 1-5 scale); without, on raw
    scale points. An empty list means no adjudication is needed. Sorted by key.
    """
    if isinstance(item_ratings, Mapping):
        grouped = {key: list(values) for key, values in item_ratings.items()}
    else:
        grouped = {}
        for record in item_ratings:
            grouped.setdefault(_get(record, "objective"), []).append(_get(record, "value"))
    by_key = {o.key: o for o in objectives or ()}
    return sorted(
        key
        for key, values in grouped.items()
        if len(values) >= 2 and disagreement(values, by_key.get(key)) >= threshold
    )


def items_needing_adjudication(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None = None,
    *,
    threshold: float,
) -> list[ItemAgreement]:
    """The :func:`item_agreement` rows with two or more ratings and disagreement >= threshold."""
    return [
        row
        for row in item_agreement(ratings, objectives)
        if row.n_ratings >= 2 and row.disagreement >= threshold
    ]
