"""Pareto front over model means."""

import itertools

from sandbox.ratings.stats import pareto_front

MEANS = {
    "atlas": {"helpfulness": 4.0, "harmlessness": 0.90},
    "borealis": {"helpfulness": 3.5, "harmlessness": 0.99},
    "cobalt": {"helpfulness": 3.0, "harmlessness": 0.80},
    "delta": {"helpfulness": 4.0, "harmlessness": 0.90},
    "ember": {"helpfulness": 3.5, "harmlessness": 0.90},
}


def _brute_force_front(means, objectives):
    def dominates(m, n):
        pairs = [(means[m][k], means[n][k]) for k in objectives]
        return all(a >= b for a, b in pairs) and any(a > b for a, b in pairs)

    return {n for n in means if not any(dominates(m, n) for m in means if m != n)}


def test_front_holds_the_non_dominated_models_and_ties_stay_together():
    result = pareto_front(MEANS)
    assert result.front == ("atlas", "borealis", "delta")
    assert result.dominated_by == {
        "cobalt": ("atlas", "borealis", "delta", "ember"),
        "ember": ("atlas", "borealis", "delta"),
    }


def test_front_matches_a_brute_force_check_on_random_data():
    values = [1.0, 2.0, 3.0]
    for case, combo in enumerate(itertools.product(values, repeat=6)):
        if case % 37:
            continue
        means = {f"m{i}": {"a": combo[2 * i], "b": combo[2 * i + 1]} for i in range(3)}
        assert set(pareto_front(means).front) == _brute_force_front(means, ["a", "b"])


def test_lower_is_better_objectives_can_be_minimised():
    means = {"x": {"help": 4.0, "latency": 2.0}, "y": {"help": 4.0, "latency": 1.0}}
    assert pareto_front(means, minimise={"latency"}).front == ("y",)
    assert pareto_front(means).front == ("x",)


def test_model_missing_an_objective_is_excluded_with_a_reason():
    means = dict(MEANS, fresh={"helpfulness": 5.0, "harmlessness": None})
    result = pareto_front(means)
    assert result.excluded == {"fresh": "no mean for harmlessness"}
    assert "fresh" not in result.front
