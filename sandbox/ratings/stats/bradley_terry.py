"""Bradley-Terry ranking from pairwise preferences, as in Chatbot Arena.

Sign convention (used across the platform): a preference between ``model_a`` (the
first, left answer) and ``model_b`` (the second, right answer) has a ``value`` from -3
to +3; **value > 0 means the second answer (model_b) is preferred**, value < 0 the first
(model_a), 0 is a tie. Only the sign enters the fit: a battle is a win, a loss or a tie,
and a tie counts as half a win each way (FastChat ``compute_mle_elo``).

Model: P(i beats j) = 1 / (1 + 10 ** ((R_j - R_i) / 400)). The ratings R are the
maximum-likelihood strengths on the base-10 logistic scale times 400, shifted so the
``baseline`` model (or, without one, the mean of all models) is 1000.

Regularisation: ``prior`` virtual games per pair of models, each a tie (so ``prior / 2``
added to the win count both ways). It keeps ratings finite when a model won or lost
every battle and ties disconnected groups of models to a common level instead of leaving
their offset undefined; with the default of 1 game per pair its pull is negligible once
pairs have tens of battles. ``prior=0`` gives the plain MLE, which exists only when every
model can be reached from every other through wins (ValueError otherwise).

The fit is Newton's method on the aggregated win-count matrix, run for all bootstrap
resamples at once (a batch of K x K systems); the bootstrap resamples battles with
replacement (a multinomial draw over the distinct (pair, outcome) cells, which is the
same distribution) and reports percentiles 2.5 and 97.5.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse.csgraph import connected_components
from scipy.special import expit

from .bootstrap import DEFAULT_CONFIDENCE, DEFAULT_SAMPLES, percentile_interval

SCALE = 400.0
INIT_RATING = 1000.0
_MAX_STEP = 2.0
_TOL = 1e-10
_MAX_ITER = 200


@dataclass(frozen=True)
class Preference:
    """One pairwise judgement: ``value`` in -3..+3, > 0 prefers ``model_b``.

    ``objective`` is None for an overall judgement; ``item_id`` and ``rater_id`` are
    carried for the caller and do not enter the fit.
    """

    model_a: str
    model_b: str
    value: int
    objective: str | None = None
    item_id: Hashable | None = None
    rater_id: Hashable | None = None


@dataclass(frozen=True)
class BTResult:
    """Ratings per model_key with bootstrap intervals (None when ``samples=0``).

    ``models`` is sorted by rating, best first. ``components`` lists the groups of
    models connected by real battles; more than one means their relative ratings rest
    on the prior alone, and ``warnings`` says so.
    """

    models: tuple[str, ...]
    ratings: dict[str, float]
    ci: dict[str, tuple[float, float]] | None
    n_battles: int
    n_ties: int
    battles_per_model: dict[str, int]
    baseline: str | None
    prior: float
    samples: int
    components: tuple[tuple[str, ...], ...]
    warnings: tuple[str, ...]

    def win_probability(self, model_a: str, model_b: str) -> float:
        """Fitted probability that ``model_a`` beats ``model_b``."""
        diff = self.ratings[model_b] - self.ratings[model_a]
        return 1.0 / (1.0 + 10.0 ** (diff / SCALE))


def _get(record: Any, name: str, default: Any = None) -> Any:
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def fit_strengths(wins: np.ndarray) -> np.ndarray:
    """Maximum-likelihood Bradley-Terry strengths for a batch of win matrices.

    ``wins`` is (K, K) or (B, K, K), ``wins[..., i, j]`` the (possibly fractional) wins
    of i over j. Returns natural-log strengths summing to zero per matrix, shape
    (K,) or (B, K). The comparison graph of each matrix must be connected.
    """
    single = wins.ndim == 2
    w = np.asarray(wins, dtype=np.float64)[None] if single else np.asarray(wins, np.float64)
    n_models = w.shape[-1]
    games = w + np.swapaxes(w, 1, 2)
    won = w.sum(axis=2)
    beta = np.zeros(w.shape[:2])
    centring = np.full((n_models, n_models), 1.0 / n_models)
    diag = np.arange(n_models)
    for _ in range(_MAX_ITER):
        p = expit(beta[:, :, None] - beta[:, None, :])
        grad = won - (games * p).sum(axis=2)
        curvature = games * p * (1.0 - p)
        laplacian = -curvature
        laplacian[:, diag, diag] = curvature.sum(axis=2)
        step = np.linalg.solve(laplacian + centring, grad[..., None])[..., 0]
        size = np.abs(step).max(axis=1, keepdims=True)
        beta += step * np.minimum(1.0, _MAX_STEP / np.maximum(size, 1e-300))
        beta -= beta.mean(axis=1, keepdims=True)
        if size.max() < _TOL:
            break
    return beta[0] if single else beta


def _outcome(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"preference value {value!r} is not a number from -3 to 3")
    if not -3 <= value <= 3:
        raise ValueError(f"preference value {value!r} is outside -3..3")
    return 0 if value < 0 else (1 if value == 0 else 2)


def bradley_terry(
    preferences: Iterable[Preference | Mapping[str, Any]],
    *,
    objective: str | None = None,
    baseline: str | None = None,
    prior: float = 1.0,
    samples: int = DEFAULT_SAMPLES,
    confidence: float = DEFAULT_CONFIDENCE,
    seed: int = 0,
) -> BTResult:
    """Fit Bradley-Terry ratings to the preferences for ``objective`` (None = overall).

    Preferences for other objectives are skipped. Raises ValueError when no battle
    remains, for a model compared with itself, for an unknown ``baseline``, or (with
    ``prior=0``) when the plain MLE does not exist.
    """
    models: dict[str, int] = {}
    battles: list[tuple[int, int, int]] = []
    for record in preferences:
        if _get(record, "objective") != objective:
            continue
        a, b = _get(record, "model_a"), _get(record, "model_b")
        if a == b:
            raise ValueError(f"a preference compares model {a!r} with itself")
        ia, ib = models.setdefault(a, len(models)), models.setdefault(b, len(models))
        battles.append((ia, ib, _outcome(_get(record, "value"))))
    if not battles:
        raise ValueError(f"no preferences for objective {objective!r}")
    if baseline is not None and baseline not in models:
        raise ValueError(f"baseline {baseline!r} has no battles")
    if prior < 0:
        raise ValueError("prior must not be negative")
    keys = list(models)
    k = len(keys)
    triples = np.array(battles, dtype=np.int64)
    cells = (triples[:, 0] * k + triples[:, 1]) * 3 + triples[:, 2]
    codes, counts = np.unique(cells, return_counts=True)
    contribution = _cell_contributions(codes, k)
    observed = (counts.astype(np.float64) @ contribution).reshape(k, k)
    components = _components(observed, keys)
    prior_wins = np.full((k, k), prior / 2.0)
    np.fill_diagonal(prior_wins, 0.0)
    if prior == 0 and connected_components(observed > 0, connection="strong")[0] > 1:
        raise ValueError(
            "the maximum-likelihood ratings do not exist (some model never beats or never "
            "loses to the rest); use prior > 0"
        )
    point = _to_ratings(fit_strengths(observed + prior_wins), keys, baseline)
    ci = None
    if samples:
        rng = np.random.default_rng(seed)
        draws = rng.multinomial(int(counts.sum()), counts / counts.sum(), size=samples)
        boot_wins = (draws.astype(np.float64) @ contribution).reshape(samples, k, k)
        boot = _to_ratings(fit_strengths(boot_wins + prior_wins), keys, baseline)
        low, high = percentile_interval(boot, confidence)
        ci = {m: (float(low[i]), float(high[i])) for i, m in enumerate(keys)}
    a_idx, b_idx, outcome = codes // 3 // k, codes // 3 % k, codes % 3
    per_model = np.bincount(a_idx, counts, k) + np.bincount(b_idx, counts, k)
    ratings = {m: float(point[i]) for i, m in enumerate(keys)}
    warnings: tuple[str, ...] = ()
    if len(components) > 1:
        message = (
            f"{len(components)} groups of models were never compared with each other; their "
            "relative ratings come from the prior only"
        )
        warnings = (message,)
    return BTResult(
        models=tuple(sorted(keys, key=lambda m: (-ratings[m], m))),
        ratings=ratings,
        ci=ci,
        n_battles=int(counts.sum()),
        n_ties=int(counts[outcome == 1].sum()),
        battles_per_model={m: int(per_model[i]) for i, m in enumerate(keys)},
        baseline=baseline,
        prior=prior,
        samples=samples,
        components=components,
        warnings=warnings,
    )


def bradley_terry_by_objective(
    preferences: Iterable[Preference | Mapping[str, Any]], **kwargs: Any
) -> dict[str | None, BTResult]:
    """Run :func:`bradley_terry` once per objective present (None = overall judgements).

    Keyword arguments are passed through (``baseline``, ``prior``, ``samples`` ...).
    """
    preferences = list(preferences)
    keys = sorted({_get(p, "objective") for p in preferences}, key=lambda o: (o is not None, o))
    return {key: bradley_terry(preferences, objective=key, **kwargs) for key in keys}


def _cell_contributions(codes: np.ndarray, k: int) -> np.ndarray:
    """(n_cells, k*k) matrix: the wins each (a, b, outcome) cell adds, ties as halves."""
    pair, outcome = codes // 3, codes % 3
    a, b = pair // k, pair % k
    contribution = np.zeros((codes.size, k * k))
    rows = np.arange(codes.size)
    a_share = np.array([1.0, 0.5, 0.0])[outcome]
    contribution[rows, a * k + b] = a_share
    contribution[rows, b * k + a] = 1.0 - a_share
    return contribution


def _components(observed: np.ndarray, keys: list[str]) -> tuple[tuple[str, ...], ...]:
    n, labels = connected_components(observed + observed.T > 0, directed=False)
    groups = [tuple(sorted(keys[i] for i in np.flatnonzero(labels == c))) for c in range(n)]
    return tuple(sorted(groups))


def _to_ratings(beta: np.ndarray, keys: list[str], baseline: str | None) -> np.ndarray:
    ratings = SCALE * beta / math.log(10.0)
    anchor = ratings[..., keys.index(baseline)] if baseline is not None else ratings.mean(-1)
    return ratings - np.asarray(anchor)[..., None] + INIT_RATING
