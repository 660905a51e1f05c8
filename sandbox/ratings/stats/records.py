"""Input records for the rating statistics: scales, objectives, ratings, and a columnar table.

Everything here is plain Python and numpy so that the Django side can feed it from
querysets (``.values()`` dicts work as well as the dataclasses below).

Model identity is an opaque ``model_key``: the statistics never need a model's name.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

ScaleKind = Literal["likert", "binary", "categorical"]
Level = Literal["nominal", "ordinal", "interval"]


@dataclass(frozen=True)
class Scale:
    """The values one objective may take.

    ``likert`` scales hold whole points from ``low`` to ``high`` (integers);
    ``binary`` holds 0 and 1; ``categorical`` holds one of ``categories`` (strings) and has
    no mean. Build them with the constants below or :meth:`categorical`.
    """

    kind: ScaleKind
    low: float = 0.0
    high: float = 1.0
    categories: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "categorical":
            if len(self.categories) < 2 or len(set(self.categories)) != len(self.categories):
                raise ValueError("a categorical scale needs two or more distinct categories")
        elif self.kind in ("likert", "binary"):
            if not self.high > self.low:
                raise ValueError(f"scale high ({self.high}) must exceed low ({self.low})")
        else:
            raise ValueError(f"unknown scale kind {self.kind!r}")

    @classmethod
    def categorical(cls, *categories: str) -> Scale:
        """Return a categorical scale over ``categories`` (order is kept for reports)."""
        return cls("categorical", 0.0, float(len(categories) - 1), tuple(categories))

    @property
    def numeric(self) -> bool:
        """True when the scale has a mean (Likert and binary)."""
        return self.kind != "categorical"

    @property
    def domain(self) -> tuple[float, ...]:
        """Every value the scale allows, as floats (category indices for categorical)."""
        if self.kind == "categorical":
            return tuple(float(i) for i in range(len(self.categories)))
        return tuple(float(v) for v in range(int(self.low), int(self.high) + 1))

    def normalise(self, value: float) -> float:
        """Map a numeric score on this scale to [0, 1] (low -> 0, high -> 1)."""
        if not self.numeric:
            raise ValueError("a categorical scale has no numeric normalisation")
        return (value - self.low) / (self.high - self.low)

    def encode(self, value: Any) -> float:
        """Return ``value`` as a float for storage, or raise ValueError naming the problem.

        Numeric scales accept whole numbers (and booleans for binary) within [low, high];
        categorical scales accept one of the category strings and store its index.
        """
        if self.kind == "categorical":
            try:
                return float(self.categories.index(value))
            except ValueError:
                raise ValueError(
                    f"{value!r} is not one of the categories {list(self.categories)}"
                ) from None
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, (int, float, np.integer, np.floating)) or math.isnan(value):
            raise ValueError(f"{value!r} is not a number on a {self.kind} scale")
        if not self.low <= value <= self.high:
            raise ValueError(f"{value!r} is outside the scale {self.low:g}..{self.high:g}")
        if value != int(value):
            raise ValueError(f"{value!r} is not a whole scale point")
        return float(value)

    def decode(self, stored: float) -> Any:
        """Inverse of :meth:`encode` for reports (category name, or int for binary)."""
        if self.kind == "categorical":
            return self.categories[int(stored)]
        if self.kind == "binary":
            return int(stored)
        return stored


LIKERT_1_5 = Scale("likert", 1.0, 5.0)
LIKERT_0_4 = Scale("likert", 0.0, 4.0)
BINARY = Scale("binary", 0.0, 1.0)


@dataclass(frozen=True)
class Objective:
    """One rubric objective.

    ``weight`` is its share in the composite (0 keeps it out of the composite; the
    default is 1 for numeric scales and 0 for categorical ones, which have no score).
    ``gate`` is a hard floor on the raw scale: an answer whose aggregated score on this
    objective is below ``gate`` fails the gate, whatever its other scores (Safe RLHF's
    constraint rather than a weight). ``level`` overrides the Krippendorff level of
    measurement, which otherwise is ordinal for Likert and nominal for binary/categorical.
    """

    key: str
    scale: Scale
    weight: float | None = None
    gate: float | None = None
    level: Level | None = None

    def __post_init__(self) -> None:
        if self.weight is None:
            object.__setattr__(self, "weight", 1.0 if self.scale.numeric else 0.0)
        if self.weight < 0:
            raise ValueError(f"objective {self.key!r}: weight must not be negative")
        if not self.scale.numeric and (self.weight > 0 or self.gate is not None):
            raise ValueError(
                f"objective {self.key!r}: a categorical objective cannot carry a composite "
                "weight or a gate; give it weight=0"
            )

    @property
    def measurement_level(self) -> Level:
        """Krippendorff level of measurement used for this objective."""
        if self.level is not None:
            return self.level
        return "ordinal" if self.scale.kind == "likert" else "nominal"

    @property
    def in_composite(self) -> bool:
        """True when the composite needs this objective (weighted or gated)."""
        return self.weight > 0 or self.gate is not None


@dataclass(frozen=True)
class Rating:
    """One expert's value for one objective of one rated answer (an "item").

    ``item_id`` identifies the answer (one model's answer to one prompt); every rating
    of an item must carry the same ``model_key``. ``value`` is a number for Likert and
    binary scales, a category string for categorical ones.
    """

    item_id: Hashable
    model_key: str
    rater_id: Hashable
    objective: str
    value: Any


def _field(record: Any, name: str) -> Any:
    if isinstance(record, Mapping):
        try:
            return record[name]
        except KeyError:
            raise ValueError(f"rating record {record!r} has no {name!r}") from None
    try:
        return getattr(record, name)
    except AttributeError:
        raise ValueError(f"rating record {record!r} has no {name!r}") from None


def objectives_by_key(objectives: Iterable[Objective]) -> dict[str, Objective]:
    """Return ``objectives`` keyed by ``key``; raise ValueError on a repeated key."""
    result: dict[str, Objective] = {}
    for objective in objectives:
        if objective.key in result:
            raise ValueError(f"objective {objective.key!r} is listed twice")
        result[objective.key] = objective
    return result


@dataclass(eq=False)
class RatingTable:
    """Ratings in columnar form (integer codes plus a float value per rating).

    Build it once with :meth:`from_records` and pass it to every statistic: each
    function also accepts plain records and builds the table itself.
    Categorical values are stored as category indices.
    """

    objectives: tuple[Objective, ...]
    item_keys: list[Hashable]
    model_keys: list[str]
    rater_keys: list[Hashable]
    item: np.ndarray
    rater: np.ndarray
    objective: np.ndarray
    value: np.ndarray
    item_model: np.ndarray
    _item_means: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    @classmethod
    def from_records(
        cls, ratings: Iterable[Rating | Mapping[str, Any]], objectives: Sequence[Objective]
    ) -> RatingTable:
        """Encode ``ratings`` against ``objectives``.

        Raises ValueError for a rating of an unknown objective, a value off its scale,
        an item rated under two different model keys, or the same (item, rater,
        objective) given twice: the caller must send one final rating per cell.
        """
        by_key = objectives_by_key(objectives)
        obj_index = {key: i for i, key in enumerate(by_key)}
        scales = [o.scale for o in by_key.values()]
        items: dict[Hashable, int] = {}
        models: dict[str, int] = {}
        raters: dict[Hashable, int] = {}
        item_model: list[int] = []
        codes: list[tuple[int, int, int]] = []
        values: list[float] = []
        for record in ratings:
            item_id = _field(record, "item_id")
            model_key = _field(record, "model_key")
            objective = _field(record, "objective")
            o = obj_index.get(objective)
            if o is None:
                raise ValueError(f"rating for unknown objective {objective!r}")
            m = models.setdefault(model_key, len(models))
            i = items.setdefault(item_id, len(items))
            if i == len(item_model):
                item_model.append(m)
            elif item_model[i] != m:
                raise ValueError(f"item {item_id!r} is rated under two different model keys")
            r = raters.setdefault(_field(record, "rater_id"), len(raters))
            try:
                values.append(scales[o].encode(_field(record, "value")))
            except ValueError as exc:
                raise ValueError(f"item {item_id!r}, objective {objective!r}: {exc}") from None
            codes.append((i, r, o))
        code_array = np.array(codes, dtype=np.int64).reshape(-1, 3)
        table = cls(
            objectives=tuple(by_key.values()),
            item_keys=list(items),
            model_keys=list(models),
            rater_keys=list(raters),
            item=code_array[:, 0].copy(),
            rater=code_array[:, 1].copy(),
            objective=code_array[:, 2].copy(),
            value=np.array(values, dtype=np.float64),
            item_model=np.array(item_model, dtype=np.int64),
        )
        cell = (table.item * len(raters) + table.rater) * len(by_key) + table.objective
        unique_cells = np.unique(cell)
        if unique_cells.size != cell.size:
            raise ValueError("the same (item, rater, objective) is rated more than once")
        return table

    @property
    def n_items(self) -> int:
        """Number of distinct items."""
        return len(self.item_keys)

    def objective_index(self, key: str) -> int:
        """Column of objective ``key``; raise ValueError when it is not in the table."""
        for i, objective in enumerate(self.objectives):
            if objective.key == key:
                return i
        raise ValueError(f"unknown objective {key!r}")

    def item_means(self) -> tuple[np.ndarray, np.ndarray]:
        """Return (means, counts), each shaped (n_items, n_objectives).

        ``means`` is the mean of the raters' values per item and objective, NaN where the
        item has no rating for the objective (and for categorical objectives, which have
        no mean); ``counts`` is the number of ratings.
        """
        if self._item_means is None:
            k = len(self.objectives)
            cell = self.item * k + self.objective
            size = self.n_items * k
            counts = np.bincount(cell, minlength=size).reshape(self.n_items, k)
            sums = np.bincount(cell, weights=self.value, minlength=size).reshape(self.n_items, k)
            with np.errstate(invalid="ignore", divide="ignore"):
                means = sums / counts
            for j, objective in enumerate(self.objectives):
                if not objective.scale.numeric:
                    means[:, j] = np.nan
            self._item_means = (means, counts)
        return self._item_means


def as_table(
    ratings: RatingTable | Iterable[Rating | Mapping[str, Any]],
    objectives: Sequence[Objective] | None,
) -> RatingTable:
    """Return ``ratings`` as a :class:`RatingTable` (building it when given records)."""
    if isinstance(ratings, RatingTable):
        return ratings
    if objectives is None:
        raise ValueError("objectives are required when ratings are plain records")
    return RatingTable.from_records(ratings, objectives)
