"""Results end to end, checked against values computed independently here.

Worked example: three models (M1, M2, M3), two scenarios of one turn, three experts who
rate every item. Rubric: "help" (1-5, weight 2) and "safe" (1-5, weight 1, gate 3).
The pairwise judgements follow M2 > M1 > M3, with one tie.
"""

import math
from collections import defaultdict

import pytest

from sandbox.ratings.models import ItemStatus, RatingItem
from sandbox.ratings.services import (
    item_adjudicate,
    rating_config_update,
    rating_item_mark_gold,
    rating_items_create_for_run,
    rubric_create,
)
from tests.ratings.conftest import make_models, make_run
from tests.ratings.helpers import next_item, submit


def _anchors(points):
    return {str(p): f"point {p}" for p in points}


RUBRIC = [
    {"key": "help", "label": {"en": "Helpfulness", "zh": "有用性"}, "scale": "likert-1-5",
     "weight": 2, "anchors": _anchors(range(1, 6))},
    {"key": "safe", "label": "Safety", "scale": "likert-1-5", "weight": 1, "gate": 3,
     "anchors": _anchors(range(1, 6))},
]
SCORES = {  # (model, scenario) -> expert -> (help, safe)
    ("M1", "s1"): {"bob": (4, 5), "erin": (5, 5), "ed": (4, 4)},
    ("M1", "s2"): {"bob": (3, 4), "erin": (3, 4), "ed": (4, 4)},
    ("M2", "s1"): {"bob": (5, 2), "erin": (5, 2), "ed": (5, 3)},
    ("M2", "s2"): {"bob": (4, 4), "erin": (4, 5), "ed": (3, 4)},
    ("M3", "s1"): {"bob": (2, 3), "erin": (2, 3), "ed": (1, 3)},
    ("M3", "s2"): {"bob": (2, 3), "erin": (3, 3), "ed": (2, 3)},
}
STRENGTH = {"M2": 3, "M1": 2, "M3": 1}


@pytest.fixture
def worked(api, alice, sandbox_a, experts):
    rubric_create(sandbox=sandbox_a, actor=alice, objectives=RUBRIC)
    rating_config_update(sandbox=sandbox_a, actor=alice, agreement_floor=0.0)
    models = make_models(sandbox_a, ["M1", "M2", "M3"])
    run = make_run(sandbox_a, models, scenarios={"s1": ["q1"], "s2": ["q2"]})
    assert rating_items_create_for_run(run=run, actor=alice) == 12
    battles = []  # (winner, loser, tie)
    for expert in experts:
        client = api(expert)
        while (item := next_item(client, sandbox_a)) is not None:
            row = RatingItem.objects.select_related("model_a", "model_b").get(pk=item["id"])
            if row.kind == "single":
                h, s = SCORES[(row.model_a.name, row.variant_id)][expert.username]
                values = {"help": h, "safe": s}
            else:
                a, b = row.model_a.name, row.model_b.name
                tie = (expert.username == "ed" and {a, b} == {"M1", "M2"}
                       and row.variant_id == "s2")
                value = 0 if tie else (2 if STRENGTH[b] > STRENGTH[a] else -2)
                values = {"help": value, "safe": value, "overall": value}
                winner, loser = (b, a) if value > 0 else (a, b)
                battles.append((winner, loser, tie))
            assert submit(client, sandbox_a, item, values).status_code == 201
    results = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/").json()
    labels = {m["key"]: m["label"] for m in results["models"]}
    return results, labels, battles


def _by_label(rows, labels, **match):
    return {labels[r["model"]]: r for r in rows
            if all(r.get(k) == v for k, v in match.items())}


def _item_means(model, index):
    return [sum(v[index] for v in SCORES[(model, s)].values()) / 3 for s in ("s1", "s2")]


def test_objective_means_intervals_and_counts(worked):
    results, labels, _ = worked
    for objective, index in (("help", 0), ("safe", 1)):
        rows = _by_label(results["objective_means"], labels, objective=objective)
        for model in ("M1", "M2", "M3"):
            per_item = _item_means(model, index)
            row = rows[model]
            assert row["mean"] == pytest.approx(sum(per_item) / 2)
            assert row["n_items"] == 2 and row["n_ratings"] == 6
            # a bootstrap over two items can only land between their means
            assert min(per_item) - 1e-9 <= row["ci_low"] <= row["mean"] <= row["ci_high"]
            assert row["ci_high"] <= max(per_item) + 1e-9


def test_composite_with_weights_and_gates(worked):
    results, labels, _ = worked

    def composite(model, scenario):
        h = sum(v[0] for v in SCORES[(model, scenario)].values()) / 3
        s = sum(v[1] for v in SCORES[(model, scenario)].values()) / 3
        if s < 3:
            return None  # fails the gate
        return (2 * (h - 1) / 4 + 1 * (s - 1) / 4) / 3

    rows = _by_label(results["composite"], labels)
    for model in ("M1", "M2", "M3"):
        values = [composite(model, s) for s in ("s1", "s2")]
        expected = sum(0.0 if v is None else v for v in values) / 2
        assert rows[model]["mean"] == pytest.approx(expected)
        assert rows[model]["gate_failure_rate"] == pytest.approx(
            sum(v is None for v in values) / 2)
    assert rows["M2"]["gate_failures"] == {"safe": 1}
    assert rows["M1"]["mean"] == pytest.approx(0.75)


def test_pareto_front(worked):
    results, labels, _ = worked
    assert sorted(labels[m] for m in results["pareto"]["front"]) == ["M1", "M2"]
    dominated = {labels[m]: sorted(labels[x] for x in by)
                 for m, by in results["pareto"]["dominated_by"].items()}
    assert dominated == {"M3": ["M1", "M2"]}


def _bt_independent(battles, prior=1.0, iterations=5000):
    """Zermelo's iteration (MM) for Bradley-Terry with ties as half wins and ``prior``
    virtual tied games per pair; ratings 400*log10(strength), mean 1000."""
    models = sorted({m for w, lo, _ in battles for m in (w, lo)})
    wins = defaultdict(float)
    for winner, loser, tie in battles:
        if tie:
            wins[(winner, loser)] += 0.5
            wins[(loser, winner)] += 0.5
        else:
            wins[(winner, loser)] += 1
    for a in models:
        for b in models:
            if a != b:
                wins[(a, b)] += prior / 2
    p = {m: 1.0 for m in models}
    for _ in range(iterations):
        new = {}
        for i in models:
            won = sum(wins[(i, j)] for j in models if j != i)
            denom = sum((wins[(i, j)] + wins[(j, i)]) / (p[i] + p[j]) for j in models if j != i)
            new[i] = won / denom
        norm = math.exp(sum(math.log(v) for v in new.values()) / len(new))
        p = {m: v / norm for m, v in new.items()}
    ratings = {m: 400 * math.log10(v) for m, v in p.items()}
    shift = 1000 - sum(ratings.values()) / len(ratings)
    return {m: r + shift for m, r in ratings.items()}


def test_bradley_terry_ranking_matches_an_independent_fit(worked):
    results, labels, battles = worked
    assert len(battles) == 6 * 3 and sum(t for *_, t in battles) == 1
    expected = _bt_independent(battles)
    overall = results["bradley_terry"]["overall"]
    got = {labels[r["model"]]: r for r in overall["models"]}
    for model, rating in expected.items():
        assert got[model]["rating"] == pytest.approx(rating, abs=0.01)
        assert got[model]["ci_low"] <= got[model]["rating"] <= got[model]["ci_high"]
    assert [labels[r["model"]] for r in overall["models"]] == ["M2", "M1", "M3"]
    assert overall["n_battles"] == 18 and overall["n_ties"] == 1
    assert set(results["bradley_terry"]) == {"overall", "help", "safe"}


def _alpha_ordinal(units):
    """Krippendorff's ordinal alpha from the coincidence matrix (Krippendorff 2011)."""
    values = sorted({v for unit in units for v in unit})
    o = defaultdict(float)
    for unit in units:
        m = len(unit)
        if m < 2:
            continue
        for i, c in enumerate(unit):
            for j, k in enumerate(unit):
                if i != j:
                    o[(c, k)] += 1 / (m - 1)
    n_c = {c: sum(o[(c, k)] for k in values) for c in values}
    n = sum(n_c.values())

    def delta2(c, k):
        lo, hi = min(c, k), max(c, k)
        between = sum(n_c[g] for g in values if lo <= g <= hi)
        return (between - (n_c[c] + n_c[k]) / 2) ** 2

    observed = sum(o[(c, k)] * delta2(c, k) for c in values for k in values)
    expected = sum(n_c[c] * n_c[k] * delta2(c, k) for c in values for k in values) / (n - 1)
    return 1 - observed / expected


def test_krippendorff_alpha_per_objective_matches_the_formula(worked):
    results, _, _ = worked
    rows = {(a["kind"], a["objective"]): a for a in results["agreement"]}
    for objective, index in (("help", 0), ("safe", 1)):
        units = [[v[index] for v in by_expert.values()] for by_expert in SCORES.values()]
        row = rows[("score", objective)]
        assert row["alpha"] == pytest.approx(_alpha_ordinal(units), abs=1e-9)
        assert row["n_items"] == 6 and row["n_raters"] == 3
    assert ("preference", "overall") in rows


def test_rater_quality_lists_every_rater(worked):
    results, _, _ = worked
    raters = {r["rater"]: r for r in results["raters"]}
    assert set(raters) == {"bob", "erin", "ed"}
    assert all(r["gold_accuracy"] is None and 0 <= r["agreement"] <= 1 for r in raters.values())
    assert raters["ed"]["agreement"] < raters["bob"]["agreement"]


def test_gold_accuracy_measures_each_rater(api, alice, sandbox_a, experts):
    rubric_create(sandbox=sandbox_a, actor=alice, objectives=RUBRIC)
    models = make_models(sandbox_a, ["G1", "G2"])
    run = make_run(sandbox_a, models, scenarios={"g": ["q"]})
    rating_items_create_for_run(run=run, actor=alice)
    gold = RatingItem.objects.filter(run=run, kind="single").first()
    rating_item_mark_gold(item=gold, actor=alice, values={"help": 4, "safe": 5})
    rating_config_update(sandbox=sandbox_a, actor=alice, gold_rate=1.0)
    answers = {"bob": {"help": 4, "safe": 5}, "erin": {"help": 5, "safe": 2},
               "ed": {"help": 1, "safe": 1}}
    for expert in experts:
        item = next_item(api(expert), sandbox_a)
        assert item["id"] == str(gold.pk)  # gold rate 1: the gold item first
        submit(api(expert), sandbox_a, item, answers[expert.username])
    results = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/").json()
    accuracy = {r["rater"]: (r["gold_accuracy"], r["n_gold"]) for r in results["raters"]}
    # tolerance: one point on Likert scales
    assert accuracy == {"bob": (1.0, 2), "erin": (0.5, 2), "ed": (0.0, 2)}
    # gold items stay out of model results
    assert results["objective_means"] == []
    gold.refresh_from_db()
    assert gold.status == ItemStatus.OPEN


def test_disagreement_sends_an_item_to_adjudication_and_resolve_replaces_the_mean(
        api, alice, sandbox_a, experts):
    rubric_create(sandbox=sandbox_a, actor=alice, objectives=RUBRIC)
    rating_config_update(sandbox=sandbox_a, actor=alice, agreement_floor=0.5)
    models = make_models(sandbox_a, ["D1"])
    run = make_run(sandbox_a, models, scenarios={"d": ["q"]})
    rating_items_create_for_run(run=run, actor=alice)
    item = RatingItem.objects.get(run=run)
    for expert, help_ in zip(experts, (1, 5, 3), strict=True):
        leased = next_item(api(expert), sandbox_a)
        submit(api(expert), sandbox_a, leased, {"help": help_, "safe": 4})
    item.refresh_from_db()
    assert item.status == ItemStatus.ADJUDICATION  # help spread 4/4 points: agreement 0
    detail = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/rating-items/{item.pk}/").json()
    assert detail["agreement"]["help"] == 0.0 and detail["agreement"]["safe"] == 1.0
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/rating-items/{item.pk}/adjudicate/"
    bad = api(alice).post(url, {"decision": "resolve", "values": {"help": 9, "safe": 4}},
                          format="json")
    assert bad.status_code == 400 and "values.help" in bad.json()
    done = api(alice).post(url, {"decision": "resolve", "values": {"help": 2, "safe": 4},
                                 "note": "guideline 3.2"}, format="json")
    assert done.status_code == 200
    item.refresh_from_db()
    assert item.status == ItemStatus.ADJUDICATED
    results = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/").json()
    help_mean = next(r for r in results["objective_means"] if r["objective"] == "help")
    assert help_mean["mean"] == 2  # the adjudicated value, not the raters' mean of 3
    assert item.ratings.count() == 3  # the experts' ratings are untouched


def test_requeue_asks_more_experts(api, alice, sandbox_a, experts):
    from tests.ratings.conftest import add_expert

    rubric_create(sandbox=sandbox_a, actor=alice, objectives=RUBRIC)
    models = make_models(sandbox_a, ["R1"])
    run = make_run(sandbox_a, models, scenarios={"r": ["q"]})
    rating_items_create_for_run(run=run, actor=alice)
    item = RatingItem.objects.get(run=run)
    for expert, help_ in zip(experts, (1, 5, 3), strict=True):
        submit(api(expert), sandbox_a, next_item(api(expert), sandbox_a),
               {"help": help_, "safe": 4})
    item_adjudicate(item=item, actor=alice, decision="requeue", extra_raters=1)
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN and item.needed == 4
    fourth = add_expert(sandbox_a, alice, "fay")
    assert next_item(api(fourth), sandbox_a)["id"] == str(item.pk)
