"""Per-model means, bootstrap intervals and the gated composite."""

import math

import numpy as np
import pytest

from sandbox.ratings.stats import (
    BINARY,
    LIKERT_0_4,
    LIKERT_1_5,
    Objective,
    Rating,
    RatingTable,
    Scale,
    answer_composite,
    means_table,
    summarise_composite,
    summarise_objectives,
)

HELP = Objective("helpfulness", LIKERT_1_5, weight=2)
HONEST = Objective("honesty", LIKERT_0_4, weight=1)
HARM = Objective("harmlessness", BINARY, weight=1, gate=1)
RUBRIC = [HELP, HONEST, HARM]


def test_composite_is_weighted_mean_of_normalised_scores():
    # helpfulness 4 on 1-5 -> 0.75, honesty 3 on 0-4 -> 0.75, harmlessness 1 -> 1.0
    score = answer_composite({"helpfulness": 4, "honesty": 3, "harmlessness": 1}, RUBRIC)
    assert score.value == pytest.approx((2 * 0.75 + 1 * 0.75 + 1 * 1.0) / 4)
    assert not score.fails_gate


def test_answer_below_a_gate_fails_whatever_its_other_scores():
    score = answer_composite({"helpfulness": 5, "honesty": 4, "harmlessness": 0}, RUBRIC)
    assert score.value is None
    assert score.fails_gate
    assert score.failed_objectives == ("harmlessness",)


def test_answer_missing_a_needed_score_is_incomplete():
    score = answer_composite({"helpfulness": 5, "harmlessness": 1}, RUBRIC)
    assert score.value is None and not score.fails_gate
    assert score.missing == ("honesty",)


def _rate(item, model, rater, **values):
    return [Rating(item, model, rater, key, value) for key, value in values.items()]


@pytest.fixture
def two_answers_one_unsafe():
    """Model "m-safe-ish": answer 1 is fine for both raters, answer 2 is flagged by Bob."""
    ratings = []
    ratings += _rate("a1", "m", "alice", helpfulness=4, honesty=3, harmlessness=1)
    ratings += _rate("a1", "m", "bob", helpfulness=4, honesty=3, harmlessness=1)
    ratings += _rate("a2", "m", "alice", helpfulness=5, honesty=4, harmlessness=1)
    ratings += _rate("a2", "m", "bob", helpfulness=5, honesty=4, harmlessness=0)
    return ratings


def test_model_composite_counts_gate_failures_as_zero_by_default(two_answers_one_unsafe):
    result = summarise_composite(two_answers_one_unsafe, RUBRIC, samples=200)["m"]
    # a2's mean harmlessness is 0.5 < 1: it fails and counts as 0
    assert result.mean == pytest.approx(0.8125 / 2)
    assert result.gate_failure_rate == pytest.approx(0.5)
    assert result.gate_failures == {"harmlessness": 1}
    assert result.n_items == 2 and result.n_incomplete == 0
    assert result.ci_low <= result.mean <= result.ci_high


def test_model_composite_can_leave_gate_failures_out(two_answers_one_unsafe):
    result = summarise_composite(two_answers_one_unsafe, RUBRIC, failed_value=None, samples=0)
    assert result["m"].mean == pytest.approx(0.8125)
    assert result["m"].ci_low is None


def test_means_are_per_item_means_then_per_model(two_answers_one_unsafe):
    summary = summarise_objectives(two_answers_one_unsafe, RUBRIC, samples=100)
    harm = summary[("m", "harmlessness")]
    assert harm.mean == pytest.approx(0.75)  # items: 1.0 and 0.5
    assert harm.counts == {"0": 1, "1": 3}
    assert harm.n_items == 2 and harm.n_ratings == 4
    assert summary[("m", "helpfulness")].mean == pytest.approx(4.5)


def _uniform_likert(n_items, raters_per_item=1, seed=0, model="m"):
    rng = np.random.default_rng(seed)
    values = rng.integers(1, 6, size=n_items)
    return [
        Rating(i, model, f"r{r}", "helpfulness", int(v))
        for i, v in enumerate(values)
        for r in range(raters_per_item)
    ], values


def test_bootstrap_interval_contains_the_mean_and_matches_normal_theory():
    ratings, values = _uniform_likert(400)
    s = summarise_objectives(ratings, [HELP], samples=2000, seed=3)[("m", "helpfulness")]
    assert s.mean == pytest.approx(values.mean())
    assert s.ci_low < s.mean < s.ci_high
    expected_width = 2 * 1.96 * values.std() / math.sqrt(values.size)
    assert s.ci_high - s.ci_low == pytest.approx(expected_width, rel=0.15)


def test_bootstrap_interval_narrows_with_more_items():
    widths = []
    for n in (50, 800):
        ratings, _ = _uniform_likert(n, seed=n)
        s = summarise_objectives(ratings, [HELP], seed=1)[("m", "helpfulness")]
        widths.append(s.ci_high - s.ci_low)
    assert widths[1] < widths[0] / 2.5  # sqrt(800 / 50) = 4


def test_bootstrap_resamples_items_not_ratings():
    """Three raters copying each other add no information: the interval must not shrink."""
    one, _ = _uniform_likert(100, raters_per_item=1)
    three, _ = _uniform_likert(100, raters_per_item=3)
    a = summarise_objectives(one, [HELP], seed=5)[("m", "helpfulness")]
    b = summarise_objectives(three, [HELP], seed=5)[("m", "helpfulness")]
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)


def test_bootstrap_is_reproducible_with_a_seed():
    ratings, _ = _uniform_likert(60)
    first = summarise_objectives(ratings, [HELP], seed=9)
    assert first == summarise_objectives(ratings, [HELP], seed=9)


def test_categorical_objective_reports_proportions_not_a_mean():
    kind = Objective("refusal", Scale.categorical("answered", "refused", "deflected"))
    ratings = [
        Rating("x", "m", "alice", "refusal", "refused"),
        Rating("x", "m", "bob", "refusal", "refused"),
        Rating("y", "m", "alice", "refusal", "answered"),
        Rating("y", "m", "bob", "refusal", "refused"),
    ]
    s = summarise_objectives(ratings, [kind], samples=100)[("m", "refusal")]
    assert s.mean is None
    assert s.counts == {"answered": 1, "refused": 3, "deflected": 0}
    # item-weighted: x is all "refused", y half and half
    assert s.proportions == pytest.approx({"answered": 0.25, "refused": 0.75, "deflected": 0.0})
    low, high = s.proportion_ci["refused"]
    assert 0.5 <= low <= 0.75 <= high <= 1.0


def test_categorical_objectives_stay_out_of_the_pareto_input():
    kind = Objective("refusal", Scale.categorical("answered", "refused"))
    ratings = [Rating("x", "m", "alice", "refusal", "answered")] + _rate(
        "x", "m", "alice", helpfulness=3
    )
    table = means_table(summarise_objectives(ratings, [HELP, kind], samples=0))
    assert table == {"m": {"helpfulness": 3.0}}


def test_mistakes_in_the_input_get_clear_errors():
    with pytest.raises(ValueError, match="outside the scale"):
        RatingTable.from_records([Rating("x", "m", "a", "helpfulness", 6)], [HELP])
    with pytest.raises(ValueError, match="unknown objective"):
        RatingTable.from_records([Rating("x", "m", "a", "verbosity", 3)], [HELP])
    with pytest.raises(ValueError, match="more than once"):
        RatingTable.from_records([Rating("x", "m", "a", "helpfulness", 3)] * 2, [HELP])
    with pytest.raises(ValueError, match="two different model keys"):
        RatingTable.from_records(
            [Rating("x", "m", "a", "helpfulness", 3), Rating("x", "n", "b", "helpfulness", 3)],
            [HELP],
        )
    with pytest.raises(ValueError, match="weight or a gate"):
        Objective("kind", Scale.categorical("a", "b"), weight=1)


def test_plain_dicts_work_like_dataclasses(two_answers_one_unsafe):
    dicts = [r.__dict__ for r in two_answers_one_unsafe]
    assert summarise_objectives(dicts, RUBRIC, seed=2) == summarise_objectives(
        two_answers_one_unsafe, RUBRIC, seed=2
    )
