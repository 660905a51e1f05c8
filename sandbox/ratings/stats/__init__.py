"""Rating statistics for the sandbox: pure Python and numpy, no Django.

Inputs are plain records (dataclasses or dicts, e.g. from ``QuerySet.values()``);
model identity is an opaque ``model_key``. Build a :class:`RatingTable` once when
computing several statistics over the same ratings.

- :func:`summarise_objectives`: mean and bootstrap interval per model and objective.
- :func:`answer_composite`, :func:`summarise_composite`: gated weighted composite.
- :func:`pareto_front`: non-dominated models over objective means.
- :func:`bradley_terry`, :func:`bradley_terry_by_objective`: Arena-style ratings.
- :func:`krippendorff_alpha`, :func:`alpha_by_objective`: agreement per objective.
- :func:`rater_quality`: gold accuracy and deviation from the other raters.
- :func:`item_agreement`, :func:`needs_adjudication`: per-item disagreement.
"""

from .agreement import (
    AlphaResult,
    ItemAgreement,
    RaterQuality,
    alpha_by_objective,
    disagreement,
    item_agreement,
    items_needing_adjudication,
    krippendorff_alpha,
    needs_adjudication,
    rater_quality,
    reading,
)
from .bradley_terry import (
    BTResult,
    Preference,
    bradley_terry,
    bradley_terry_by_objective,
    fit_strengths,
)
from .pareto import ParetoResult, pareto_front
from .records import (
    BINARY,
    LIKERT_0_4,
    LIKERT_1_5,
    Objective,
    Rating,
    RatingTable,
    Scale,
)
from .summary import (
    CompositeScore,
    CompositeSummary,
    ObjectiveSummary,
    answer_composite,
    item_composites,
    means_table,
    summarise_composite,
    summarise_objectives,
)

__all__ = [
    "BINARY",
    "LIKERT_0_4",
    "LIKERT_1_5",
    "AlphaResult",
    "BTResult",
    "CompositeScore",
    "CompositeSummary",
    "ItemAgreement",
    "Objective",
    "ObjectiveSummary",
    "ParetoResult",
    "Preference",
    "RaterQuality",
    "Rating",
    "RatingTable",
    "Scale",
    "alpha_by_objective",
    "answer_composite",
    "bradley_terry",
    "bradley_terry_by_objective",
    "disagreement",
    "fit_strengths",
    "item_agreement",
    "item_composites",
    "items_needing_adjudication",
    "krippendorff_alpha",
    "means_table",
    "needs_adjudication",
    "pareto_front",
    "rater_quality",
    "reading",
    "summarise_composite",
    "summarise_objectives",
]
