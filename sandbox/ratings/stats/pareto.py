"""Pareto front of models over several objectives.

Model m dominates n when m is at least as good as n on every objective and strictly
better on at least one. The front is the set of models nobody dominates. It is a set,
not a ranking: reports should show it as such.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ParetoResult:
    """The front and, for every dominated model, the models that dominate it.

    ``front`` and the tuples in ``dominated_by`` are sorted by model key.
    ``excluded`` maps a model left out to the reason (a missing objective mean).
    """

    objectives: tuple[str, ...]
    front: tuple[str, ...]
    dominated_by: dict[str, tuple[str, ...]]
    excluded: dict[str, str]


def pareto_front(
    means: Mapping[str, Mapping[str, float | None]],
    objectives: Sequence[str] | None = None,
    *,
    minimise: Collection[str] = (),
) -> ParetoResult:
    """Return the Pareto front of ``means`` ({model_key: {objective: mean}}).

    ``objectives`` defaults to every objective any model has, sorted. Higher is better
    except for the objectives in ``minimise``. A model missing a mean (None or NaN) for
    one of the objectives cannot be compared and is listed in ``excluded``.
    """
    if objectives is None:
        objectives = sorted({key for row in means.values() for key in row})
    objectives = tuple(objectives)
    if not objectives:
        raise ValueError("the Pareto front needs at least one objective")
    models: list[str] = []
    rows: list[list[float]] = []
    excluded: dict[str, str] = {}
    for model_key in sorted(means):
        row = means[model_key]
        missing = [k for k in objectives if row.get(k) is None or math.isnan(row[k])]
        if missing:
            excluded[model_key] = "no mean for " + ", ".join(missing)
            continue
        models.append(model_key)
        rows.append([-row[k] if k in minimise else row[k] for k in objectives])
    x = np.array(rows, dtype=np.float64).reshape(len(models), len(objectives))
    at_least = (x[:, None, :] >= x[None, :, :]).all(axis=2)
    better = (x[:, None, :] > x[None, :, :]).any(axis=2)
    dominates = at_least & better
    front = tuple(m for j, m in enumerate(models) if not dominates[:, j].any())
    dominated_by = {
        m: tuple(models[i] for i in np.flatnonzero(dominates[:, j]))
        for j, m in enumerate(models)
        if dominates[:, j].any()
    }
    return ParetoResult(objectives, front, dominated_by, excluded)
