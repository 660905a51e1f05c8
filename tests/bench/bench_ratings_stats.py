"""Benchmark of the rating statistics on 100,000 synthetic ratings.

Run: ``.venv/bin/python tests/bench/bench_ratings_stats.py`` from the repository root.
8 models, 6 objectives, 5,556 answers rated by 3 of 40 raters each (100,008 ratings),
plus 20,000 pairwise preferences. Times each statistic (input records -> results, the
rater-quality and item-disagreement passes included) and the total against the goal of
5 s; data generation is timed separately. Exit status 1
when the goal is missed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sandbox.ratings.stats import (  # noqa: E402
    BINARY,
    LIKERT_0_4,
    LIKERT_1_5,
    Objective,
    Preference,
    Rating,
    RatingTable,
    Scale,
    alpha_by_objective,
    bradley_terry,
    item_agreement,
    means_table,
    pareto_front,
    rater_quality,
    summarise_composite,
    summarise_objectives,
)

GOAL_SECONDS = 5.0
N_MODELS, N_ITEMS, RATERS_PER_ITEM, RATER_POOL, N_PREFERENCES = 8, 5556, 3, 40, 20_000
REFUSAL = Scale.categorical("answered", "refused", "deflected")
OBJECTIVES = [
    Objective("helpfulness", LIKERT_1_5, weight=2),
    Objective("correctness", LIKERT_1_5, weight=2),
    Objective("compliance", LIKERT_0_4, weight=1, gate=2),
    Objective("privacy", BINARY, weight=1),
    Objective("harmlessness", BINARY, weight=1, gate=1),
    Objective("refusal", REFUSAL),
]


def synthetic(seed: int = 0) -> tuple[list[Rating], list[Preference]]:
    """Ratings that follow a latent quality per model and item, with rater noise."""
    rng = np.random.default_rng(seed)
    models = [f"model-{m}" for m in range(N_MODELS)]
    model_of_item = rng.integers(0, N_MODELS, N_ITEMS)
    quality = np.linspace(-0.8, 0.8, N_MODELS)[model_of_item] + rng.normal(0, 0.7, N_ITEMS)
    raters = np.array(
        [rng.choice(RATER_POOL, RATERS_PER_ITEM, replace=False) for _ in range(N_ITEMS)]
    )
    ratings: list[Rating] = []
    for objective in OBJECTIVES:
        scale = objective.scale
        latent = quality[:, None] + rng.normal(0, 0.5, (N_ITEMS, RATERS_PER_ITEM))
        if scale.kind == "likert":
            mid = (scale.low + scale.high) / 2
            values = (
                np.clip(np.rint(mid + latent * 1.2), scale.low, scale.high).astype(int).tolist()
            )
        elif scale.kind == "binary":
            values = (latent > -1.2).astype(int).tolist()
        else:
            values = np.array(scale.categories)[np.digitize(latent, [-1.0, -1.6])].tolist()
        for i in range(N_ITEMS):
            for r in range(RATERS_PER_ITEM):
                ratings.append(
                    Rating(
                        f"item-{i}",
                        models[model_of_item[i]],
                        f"rater-{raters[i, r]}",
                        objective.key,
                        values[i][r],
                    )
                )
    strength = np.linspace(-1, 1, N_MODELS)
    a = rng.integers(0, N_MODELS, N_PREFERENCES)
    b = (a + rng.integers(1, N_MODELS, N_PREFERENCES)) % N_MODELS
    margin = strength[b] - strength[a] + rng.logistic(0, 1, N_PREFERENCES)
    value = np.clip(np.rint(margin * 1.5), -3, 3).astype(int)
    preferences = [
        Preference(models[i], models[j], int(v)) for i, j, v in zip(a, b, value, strict=True)
    ]
    return ratings, preferences


def main() -> int:
    """Run the benchmark, print the figures, return 0 when within the goal."""
    started = time.perf_counter()
    ratings, preferences = synthetic()
    print(
        f"generated {len(ratings):,} ratings and {len(preferences):,} preferences "
        f"in {time.perf_counter() - started:.2f} s (not counted)"
    )

    timings: dict[str, float] = {}

    def timed(label, fn, *args, **kwargs):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        timings[label] = time.perf_counter() - t0
        return result

    table = timed("encode ratings (RatingTable)", RatingTable.from_records, ratings, OBJECTIVES)
    alphas = timed("Krippendorff alpha x 6 objectives", alpha_by_objective, table)
    summaries = timed("means + bootstrap CI (1,000), 8 x 6", summarise_objectives, table)
    composites = timed("composite + gate rate + CI (1,000)", summarise_composite, table)
    front = timed("Pareto front", pareto_front, means_table(summaries, composites))
    bt = timed("Bradley-Terry + 1,000 bootstrap fits", bradley_terry, preferences)
    timed("rater quality (deviation from others)", rater_quality, table)
    timed("item disagreement, every item x objective", item_agreement, table)
    total = sum(timings.values())

    for label, seconds in timings.items():
        print(f"  {label:<44} {seconds:7.3f} s")
    print(
        f"  {'total':<44} {total:7.3f} s   (goal <= {GOAL_SECONDS:.1f} s: "
        f"{'met' if total <= GOAL_SECONDS else 'MISSED'})"
    )
    print("alpha:", {k: None if a.alpha is None else round(a.alpha, 3) for k, a in alphas.items()})
    print("Pareto front:", front.front)
    print(
        "BT top 3:",
        [(m, round(bt.ratings[m]), tuple(round(x) for x in bt.ci[m])) for m in bt.models[:3]],
    )
    return 0 if total <= GOAL_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
