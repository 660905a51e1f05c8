"""Krippendorff's alpha, rater quality and item disagreement against hand computation."""

import math
from collections import defaultdict
from fractions import Fraction

import pytest

from sandbox.ratings.stats import (
    BINARY,
    LIKERT_1_5,
    Objective,
    Rating,
    Scale,
    alpha_by_objective,
    item_agreement,
    items_needing_adjudication,
    krippendorff_alpha,
    needs_adjudication,
    rater_quality,
)

SAFE = Objective("safe", BINARY)
HELP = Objective("helpfulness", LIKERT_1_5)

# 4 items x 3 raters, nominal (binary); None = not rated
TINY = {
    "i1": {"alice": 1, "bob": 1, "carol": 1},
    "i2": {"alice": 1, "bob": 0, "carol": 0},
    "i3": {"alice": 0, "bob": 0, "carol": 0},
    "i4": {"alice": 1, "bob": 0, "carol": None},
}


def _ratings(data, objective):
    return [
        Rating(item, "m", rater, objective, value)
        for item, row in data.items()
        for rater, value in row.items()
        if value is not None
    ]


def _nominal_alpha_by_coincidence_matrix(data):
    """alpha = 1 - D_o / D_e from the coincidence matrix, written out (exact fractions)."""
    o = defaultdict(Fraction)
    for row in data.values():
        values = [v for v in row.values() if v is not None]
        m = len(values)
        if m < 2:
            continue
        for i, c in enumerate(values):
            for j, k in enumerate(values):
                if i != j:
                    o[(c, k)] += Fraction(1, m - 1)
    categories = sorted({c for c, _ in o})
    n_c = {c: sum(o[(c, k)] for k in categories) for c in categories}
    n = sum(n_c.values())
    observed = sum(o[(c, k)] for c in categories for k in categories if c != k) / n
    expected = sum(n_c[c] * n_c[k] for c in categories for k in categories if c != k) / (
        n * (n - 1)
    )
    return 1 - observed / expected


def test_nominal_alpha_matches_the_coincidence_matrix_by_hand():
    # o11 = 3, o10 = o01 = 2, o00 = 4; n = 11; D_o = 4/11, D_e = 60/110 -> alpha = 1/3
    expected = _nominal_alpha_by_coincidence_matrix(TINY)
    assert expected == Fraction(1, 3)
    result = krippendorff_alpha(_ratings(TINY, "safe"), "safe", [SAFE])
    assert result.alpha == pytest.approx(float(expected))
    assert (result.n_items, result.n_raters, result.n_ratings) == (4, 3, 11)
    assert result.level == "nominal"
    assert result.reading == "needs work"


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 observers x 12 units;
# published: nominal 0.743, ordinal 0.815, interval 0.849
PUBLISHED = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849)]
)
def test_alpha_reproduces_the_published_example(level, published):
    ratings = [
        Rating(unit, "m", observer, "helpfulness", value)
        for observer, row in enumerate(PUBLISHED)
        for unit, value in enumerate(row)
        if value is not None
    ]
    result = krippendorff_alpha(ratings, "helpfulness", [HELP], level=level)
    assert round(result.alpha, 3) == published
    # unit 12 has a single rating and does not count
    assert (result.n_items, result.n_raters) == (11, 4)


def test_likert_defaults_to_ordinal_and_readings_follow_the_cut_offs():
    ratings = [
        Rating(unit, "m", observer, "helpfulness", value)
        for observer, row in enumerate(PUBLISHED)
        for unit, value in enumerate(row)
        if value is not None
    ]
    result = alpha_by_objective(ratings, [HELP])["helpfulness"]
    assert result.level == "ordinal"
    assert result.reading == "reliable"


def test_one_rater_gives_no_alpha_and_says_why():
    ratings = [Rating(i, "m", "alice", "safe", i % 2) for i in range(5)]
    result = krippendorff_alpha(ratings, "safe", [SAFE])
    assert result.alpha is None
    assert "two or more raters" in result.reason


def test_no_variance_gives_no_alpha_and_says_why():
    ratings = [Rating(i, "m", r, "safe", 1) for i in range(4) for r in ("alice", "bob")]
    result = krippendorff_alpha(ratings, "safe", [SAFE])
    assert result.alpha is None
    assert "no variance" in result.reason
    assert result.n_items == 4 and result.n_raters == 2


def test_categorical_alpha_is_nominal():
    kind = Objective("refusal", Scale.categorical("answered", "refused"))
    data = {
        item: {r: ("refused" if v else "answered") for r, v in row.items() if v is not None}
        for item, row in TINY.items()
    }
    result = krippendorff_alpha(_ratings(data, "refusal"), "refusal", [kind])
    assert result.alpha == pytest.approx(1 / 3)


@pytest.fixture
def panel():
    """Alice, Bob and Carol rate two answers; Carol skips the second."""
    rows = {
        ("i1", "helpfulness"): {"alice": 5, "bob": 3, "carol": 4},
        ("i2", "helpfulness"): {"alice": 2, "bob": 2},
        ("i1", "safe"): {"alice": 1, "bob": 0, "carol": 1},
    }
    return [
        Rating(item, "m", rater, key, value)
        for (item, key), row in rows.items()
        for rater, value in row.items()
    ]


def test_deviation_from_the_others_by_hand(panel):
    quality = rater_quality(panel, [HELP, SAFE])
    # i1 helpfulness: alice |5 - 3.5| / 4, bob |3 - 4.5| / 4, carol |4 - 4| / 4; i2: 0, 0
    # i1 safe (nominal): alice 1 of 2 others differ, bob 2 of 2, carol 1 of 2
    assert quality["alice"].deviation_by_objective == pytest.approx(
        {"helpfulness": (0.375 + 0) / 2, "safe": 0.5}
    )
    assert quality["bob"].deviation_by_objective == pytest.approx(
        {"helpfulness": 0.375 / 2, "safe": 1.0}
    )
    assert quality["carol"].mean_deviation == pytest.approx((0 + 0.5) / 2)
    assert quality["carol"].n_compared == 2
    assert quality["alice"].n_ratings == 3 and quality["alice"].n_items == 2


def test_gold_accuracy_uses_the_documented_tolerance(panel):
    gold = {("i1", "helpfulness"): 4, ("i2", "helpfulness"): 4, ("i1", "safe"): 1}
    quality = rater_quality(panel, [HELP, SAFE], gold=gold)
    # default: within 1 point on Likert, exact on binary
    # alice: 5~4 yes, 2~4 no, safe 1 yes -> 2/3; bob: 3~4 yes, 2~4 no, safe 0 no -> 1/3
    assert quality["alice"].gold_accuracy == pytest.approx(2 / 3)
    assert quality["bob"].gold_accuracy == pytest.approx(1 / 3)
    assert quality["carol"].gold_accuracy == pytest.approx(1.0)
    strict = rater_quality(panel, [HELP, SAFE], gold=gold, tolerance=0)
    assert strict["alice"].gold_accuracy == pytest.approx(1 / 3)
    generous = rater_quality(panel, [HELP, SAFE], gold=gold, tolerance={"helpfulness": 2})
    assert generous["bob"].gold_accuracy == pytest.approx(2 / 3)
    assert rater_quality(panel, [HELP, SAFE])["alice"].gold_accuracy is None


def test_item_disagreement_and_adjudication(panel):
    rows = {(a.item_id, a.objective): a for a in item_agreement(panel, [HELP, SAFE])}
    i1 = rows[("i1", "helpfulness")]
    assert i1.disagreement == pytest.approx(2 / 4)
    assert i1.value_range == 2 and i1.std == pytest.approx(math.sqrt(2 / 3))
    assert rows[("i1", "safe")].disagreement == pytest.approx(1 / 3)
    assert rows[("i2", "helpfulness")].disagreement == 0
    flagged = items_needing_adjudication(panel, [HELP, SAFE], threshold=0.5)
    assert [(a.item_id, a.objective) for a in flagged] == [("i1", "helpfulness")]


def test_needs_adjudication_for_one_item():
    item = [
        Rating("i1", "m", "alice", "helpfulness", 5),
        Rating("i1", "m", "bob", "helpfulness", 2),
        Rating("i1", "m", "alice", "safe", 1),
        Rating("i1", "m", "bob", "safe", 1),
    ]
    assert needs_adjudication(item, 2) == ["helpfulness"]  # raw points
    assert needs_adjudication(item, 4) == []
    assert needs_adjudication(item, 0.75, objectives=[HELP, SAFE]) == ["helpfulness"]
    assert needs_adjudication({"safe": [1, 0, 1]}, 0.3, objectives=[SAFE]) == ["safe"]
    assert needs_adjudication({"safe": [1]}, 0.0) == []
