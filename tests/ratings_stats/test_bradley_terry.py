"""Bradley-Terry ratings checked against closed forms and a direct likelihood fit."""

import math

import choix
import numpy as np
import pytest
from scipy.optimize import minimize

from sandbox.ratings.stats import Preference, bradley_terry, bradley_terry_by_objective


def battles(first, second, first_wins=0, second_wins=0, ties=0, objective=None):
    """Preferences between two models; value > 0 means the second answer won."""
    return (
        [Preference(first, second, -2, objective)] * first_wins
        + [Preference(first, second, 3, objective)] * second_wins
        + [Preference(first, second, 0, objective)] * ties
    )


def test_two_models_have_the_closed_form_rating_gap():
    # P(a beats b) = 3/4 => R_a - R_b = 400 * log10(3)
    result = bradley_terry(battles("a", "b", first_wins=3, second_wins=1), prior=0, samples=0)
    assert result.ratings["a"] - result.ratings["b"] == pytest.approx(400 * math.log10(3))
    assert result.ratings["a"] + result.ratings["b"] == pytest.approx(2000)
    assert result.win_probability("a", "b") == pytest.approx(0.75)


def test_a_tie_is_half_a_win_each_way():
    # 2 wins, 1 tie, 1 loss: a scores 2.5 of 4, so P(a beats b) = 5/8
    result = bradley_terry(battles("a", "b", 2, 1, ties=1), prior=0, samples=0)
    assert result.win_probability("a", "b") == pytest.approx(5 / 8)
    assert result.n_ties == 1 and result.n_battles == 4


def test_positive_value_prefers_the_second_answer():
    result = bradley_terry([Preference("left", "right", 1)] * 3, samples=0)
    assert result.models == ("right", "left")


def _likelihood_fit(wins, prior):
    """Maximise the Bradley-Terry likelihood directly (base-10, 400 scale, mean 1000)."""
    k = wins.shape[0]
    virtual = np.full((k, k), prior / 2)
    np.fill_diagonal(virtual, 0)
    w = wins + virtual

    def negative_log_likelihood(r):
        diff = (r[None, :] - r[:, None]) / 400  # diff[i, j] = (R_j - R_i) / 400
        p = 1 / (1 + 10**diff)  # P(i beats j)
        return -(w * np.log(p)).sum()

    fit = minimize(negative_log_likelihood, np.zeros(k), method="BFGS", options={"gtol": 1e-9})
    return fit.x - fit.x.mean() + 1000


THREE = (
    battles("a", "b", first_wins=6, second_wins=4, ties=2)
    + battles("b", "c", first_wins=7, second_wins=3)
    + battles("c", "a", first_wins=5, second_wins=4, ties=1)
)
# wins[i, j] for order a, b, c with ties as halves
THREE_WINS = np.array(
    [
        [0.0, 6 + 1, 4 + 0.5],
        [4 + 1, 0.0, 7.0],
        [5 + 0.5, 3.0, 0.0],
    ]
)


@pytest.mark.parametrize("prior", [0.0, 1.0, 10.0])
def test_three_models_match_a_direct_maximum_likelihood_fit(prior):
    expected = _likelihood_fit(THREE_WINS, prior)
    result = bradley_terry(THREE, prior=prior, samples=0)
    got = [result.ratings[m] for m in "abc"]
    assert got == pytest.approx(expected.tolist(), abs=0.01)


def test_plain_mle_agrees_with_choix():
    strengths = choix.ilsr_pairwise_dense(THREE_WINS, alpha=0, tol=1e-12, max_iter=10_000)
    expected = 400 * strengths / math.log(10)
    expected = expected - expected.mean() + 1000
    result = bradley_terry(THREE, prior=0, samples=0)
    assert [result.ratings[m] for m in "abc"] == pytest.approx(expected.tolist(), abs=1e-6)


def test_a_baseline_is_anchored_at_1000():
    result = bradley_terry(THREE, baseline="c", samples=200)
    free = bradley_terry(THREE, samples=0)
    assert result.ratings["c"] == pytest.approx(1000)
    assert result.ratings["a"] - result.ratings["c"] == pytest.approx(
        free.ratings["a"] - free.ratings["c"]
    )
    assert result.ci["c"] == pytest.approx((1000, 1000))


def test_bootstrap_interval_contains_the_fit_and_narrows_with_more_battles():
    small = bradley_terry(THREE, samples=500, seed=1)
    large = bradley_terry(THREE * 16, samples=500, seed=1)
    for result in (small, large):
        for model, (low, high) in result.ci.items():
            assert low <= result.ratings[model] <= high
    small_width, large_width = (r.ci["a"][1] - r.ci["a"][0] for r in (small, large))
    assert large_width < small_width / 2.5  # sqrt(16) = 4 in theory


def test_disconnected_groups_get_finite_ratings_and_a_warning():
    prefs = battles("a", "b", first_wins=5) + battles("c", "d", first_wins=2, second_wins=1)
    result = bradley_terry(prefs, samples=100)
    assert all(math.isfinite(v) for v in result.ratings.values())
    assert result.components == (("a", "b"), ("c", "d"))
    assert result.warnings
    assert result.ratings["a"] > result.ratings["b"]


def test_without_a_prior_an_unbeaten_model_is_refused_with_advice():
    with pytest.raises(ValueError, match="prior > 0"):
        bradley_terry(battles("a", "b", first_wins=3), prior=0)


def test_small_prior_keeps_an_unbeaten_model_finite():
    result = bradley_terry(battles("a", "b", first_wins=3), samples=100)
    # prior 1 => a has 3.5 of 4 virtual-plus-real games: P = 7/8
    assert result.win_probability("a", "b") == pytest.approx(7 / 8)


def test_per_objective_fits_use_only_their_preferences():
    prefs = battles("a", "b", 4, 1) + battles("a", "b", 1, 4, objective="harmlessness")
    results = bradley_terry_by_objective(prefs, prior=0, samples=0)
    assert set(results) == {None, "harmlessness"}
    assert results[None].models == ("a", "b")
    assert results["harmlessness"].models == ("b", "a")


def test_bad_preferences_are_refused():
    with pytest.raises(ValueError, match="outside -3..3"):
        bradley_terry([Preference("a", "b", 4)])
    with pytest.raises(ValueError, match="with itself"):
        bradley_terry([Preference("a", "a", 1)])
    with pytest.raises(ValueError, match="no preferences"):
        bradley_terry([], samples=0)
