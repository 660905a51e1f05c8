"""Every ratings endpoint × every role, in the own sandbox and from another, before and after
the results are released."""

import dataclasses

import pytest

from sandbox.ratings.models import ItemKind, RatingItem, Rubric
from sandbox.ratings.services import assignment_next, rating_submit, results_release
from tests.conftest import make_user
from tests.matrix import CONFIGURE, MONITOR, RATE, ROLES, VIEW, Endpoint, call, with_success

RESULTS_BEFORE = MONITOR
RESULTS_AFTER = {**MONITOR, "expert": 200}
EXPORT_BEFORE = {"operator": 403, "expert": 403, "regulator": 403, "outsider": 404,
                 "other": 404, "anonymous": 401}
EXPORT_AFTER = {**EXPORT_BEFORE, "operator": 200, "regulator": 200}
A = "/api/v1/sandboxes/{a}/"


def _row(**codes):
    return {"outsider": 404, "other": 404, "anonymous": 401, **codes}


def endpoints(released: bool):
    return [
        Endpoint("GET", A + "rubric/", VIEW),
        Endpoint("POST", A + "rubric/", with_success(CONFIGURE, 201),
                 body={"objectives": "{objectives}"}),
        Endpoint("GET", A + "rubric/versions/", VIEW),
        Endpoint("GET", A + "rating-settings/", CONFIGURE),
        Endpoint("PATCH", A + "rating-settings/", CONFIGURE, body={"gold_rate": 0.2}),
        Endpoint("GET", A + "rating-items/", MONITOR),
        Endpoint("GET", A + "rating-items/{item}/", MONITOR),
        Endpoint("GET", A + "rating-items/{b_item}/", _row(operator=404, expert=403,
                                                           regulator=404),
                 label="A's URL, B's item"),
        Endpoint("POST", A + "rating-items/generate/", CONFIGURE, body={"run": "{run}"}),
        Endpoint("POST", A + "rating-items/generate/", _row(operator=400, expert=403,
                                                            regulator=403),
                 body={"run": "{b_run}"}, label="generate from B's run through A"),
        Endpoint("POST", A + "rating-items/{item}/gold/", CONFIGURE, body={"values": "{gold}"}),
        Endpoint("POST", A + "rating-items/{item}/adjudicate/",
                 _row(operator=400, expert=403, regulator=403), body={"decision": "accept"},
                 label="adjudicate an item that needs none"),
        Endpoint("GET", A + "rating-queue/next/",
                 with_success(RATE, 204) if released else RATE),
        Endpoint("POST", A + "rating-queue/skip/", _row(operator=403, expert=400, regulator=403),
                 body={"item": "{b_item}", "reason": "not mine"},
                 label="skip B's item through A"),
        Endpoint("GET", A + "ratings/", RATE),
        Endpoint("POST", A + "ratings/", _row(operator=403, expert=400, regulator=403),
                 body={"item": "{b_item}", "values": {"overall": 1}},
                 label="rate B's item through A"),
        Endpoint("GET", A + "ratings/{rating}/", RATE),
        Endpoint("PATCH", A + "ratings/{rating}/",
                 _row(operator=403, expert=400 if released else 200, regulator=403),
                 body={"values": "{rating_values}"}),
        Endpoint("GET", A + "results/", RESULTS_AFTER if released else RESULTS_BEFORE),
        Endpoint("POST", A + "results/release/",
                 _row(operator=400 if released else 200, expert=403, regulator=403)),
        *[Endpoint("GET", A + f"exports/{fmt}/", EXPORT_AFTER if released else EXPORT_BEFORE)
          for fmt in ("trl-preference", "trl-unpaired", "hh-rlhf", "ultrafeedback",
                      "helpsteer", "ratings-long", "ratings-long-csv")],
        # B's sandbox through its own URL: nobody of A finds it
        *[Endpoint(method, "/api/v1/sandboxes/{b}/" + path,
                   _row(operator=404, expert=404, regulator=404, other=expect),
                   label=f"B: {method} {path}")
          for method, path, expect in (("GET", "rubric/", 200), ("GET", "results/", 200),
                                       ("GET", "rating-queue/next/", 403),
                                       ("GET", "rating-items/", 200),
                                       ("GET", "exports/ratings-long/", 403))],
    ]


@pytest.fixture
def people(alice, bob, rita, olga, charlie, sandbox_a, sandbox_b):
    return {"operator": alice, "expert": bob, "regulator": rita, "outsider": olga,
            "other": charlie, "anonymous": None}


@pytest.fixture
def ids(sandbox_a, sandbox_b, items, alice, bob, charlie):
    from sandbox.core import services as core
    from sandbox.ratings.blind import blind_item
    from sandbox.ratings.services import queue_progress, rating_items_create_for_run
    from tests.ratings.conftest import make_models, make_run
    from tests.ratings.helpers import values_for

    make_user("bea")
    core.membership_add(sandbox=sandbox_b, actor=charlie, username="bea", role="expert")
    b_run = make_run(sandbox_b, make_models(sandbox_b, ["B-1", "B-2"]),
                     scenarios={"b": ["question in B"]})
    rating_items_create_for_run(run=b_run, actor=charlie)
    rubric = Rubric.objects.current_for(sandbox_a)
    lease = assignment_next(sandbox=sandbox_a, expert=bob)
    item = blind_item(lease.item, rubric=rubric, lease=lease,
                      progress=queue_progress(sandbox=sandbox_a, expert=bob))
    values = values_for(item)
    rating = rating_submit(sandbox=sandbox_a, rater=bob, item_id=item["id"], values=values)
    single = RatingItem.objects.filter(sandbox=sandbox_a, kind=ItemKind.SINGLE).exclude(
        pk=rating.item_id).first()
    gold = {o["key"]: 1 if o["scale"] == "binary" else 3 for o in rubric.objectives}
    return {"a": sandbox_a.pk, "b": sandbox_b.pk, "item": str(single.pk),
            "b_item": str(RatingItem.objects.filter(sandbox=sandbox_b).first().pk),
            "run": items.pk, "b_run": b_run.pk, "rating": str(rating.pk),
            "objectives": rubric.objectives, "gold": gold, "rating_values": values}


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") \
            and value[1:-1] in ids:
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


def _check(api, people, ids, endpoint, role):
    endpoint = dataclasses.replace(endpoint, body=_fill(endpoint.body, ids))
    response = call(api(people[role]), endpoint, ids)
    assert response.status_code == endpoint.expect[role], response.content[:500]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", endpoints(released=False), ids=str)
def test_ratings_permission_matrix_before_release(api, people, ids, endpoint, role):
    _check(api, people, ids, endpoint, role)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", endpoints(released=True), ids=str)
def test_ratings_permission_matrix_after_release(api, people, ids, sandbox_a, alice, endpoint,
                                                 role):
    results_release(sandbox=sandbox_a, actor=alice)
    _check(api, people, ids, endpoint, role)
