"""Vectorised bootstrap helpers shared by the summaries and the Bradley-Terry fit."""

from __future__ import annotations

import warnings

import numpy as np

DEFAULT_SAMPLES = 1000
DEFAULT_CONFIDENCE = 0.95


def resample_counts(rng: np.random.Generator, n: int, samples: int) -> np.ndarray:
    """Return a (samples, n) array: how often each of n units is drawn in each resample.

    Drawing n units with replacement and counting them is the ordinary bootstrap; with
    counts as weights a statistic that is a weighted mean becomes one matrix product.
    """
    draws = rng.integers(0, n, size=(samples, n))
    flat = draws + (np.arange(samples) * n)[:, None]
    return np.bincount(flat.ravel(), minlength=samples * n).reshape(samples, n).astype(np.float64)


def percentile_interval(boot: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval over axis 0 of ``boot``, ignoring NaN resamples (all NaN -> NaN).

    For ``confidence=0.95`` these are the 2.5th and 97.5th percentiles.
    """
    if not 0 < confidence < 1:
        raise ValueError("confidence must lie strictly between 0 and 1")
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        low, high = np.nanpercentile(boot, [tail, 100 - tail], axis=0)
    return low, high
