"""Blindness: before release no expert learns which model wrote an answer or what other
experts gave, through any page, API field, export, error message, URL or ordering."""

import json
import random
import re

import pytest

from sandbox.ratings.blind import ITEM_KEYS
from sandbox.ratings.models import RatingItem
from sandbox.ratings.services import results_release
from sandbox.runs.models import Session, Turn
from tests.ratings.helpers import next_item, submit, values_for


def _forbidden(models, run):
    """Strings that would identify a model, a run, a session or a turn."""
    words = set()
    for model in models:
        words |= {model.name, f'"model": {model.pk}', f'"model_a": {model.pk}'}
    words |= {f'"run": {run.pk}', "model_a", "model_b", "turn_a", "turn_b", "session",
              "variant_id", "source_key", "ratings_count", "is_gold", "order_key", "status"}
    return words


def test_the_item_payload_holds_only_the_blind_fields(api, bob, sandbox_a, items, models_a):
    item = next_item(api(bob), sandbox_a)
    assert set(item) == ITEM_KEYS
    text = json.dumps(item)
    for word in _forbidden(models_a, items):
        assert word not in text, word
    assert set(item["progress"]) == {"done", "remaining"}


def test_every_route_an_expert_can_reach_stays_blind(api, client, bob, sandbox_a, items,
                                                     models_a, experts):
    erin = experts[1]
    # Erin rates first, so Bob's items may carry her ratings
    for _ in range(5):
        item = next_item(api(erin), sandbox_a)
        submit(api(erin), sandbox_a, item, values_for(item, lambda p, k: p[0]),
               rationale="ERIN-SECRET-RATIONALE")
    bob_api = api(bob)
    item = next_item(bob_api, sandbox_a)
    rating = submit(bob_api, sandbox_a, item).json()
    double = submit(bob_api, sandbox_a, item)
    bad = submit(bob_api, sandbox_a, next_item(bob_api, sandbox_a), {"helpfulness": 9})
    client.force_login(bob)
    responses = [
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/rating-queue/next/"),
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/?all=1"),
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/{rating['id']}/"),
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/rubric/"),
        double, bad,
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/"),
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/rating-items/"),
        bob_api.get(f"/api/v1/sandboxes/{sandbox_a.pk}/exports/ratings-long/"),
        client.get(f"/sandboxes/{sandbox_a.pk}/rate/"),
        client.get(f"/sandboxes/{sandbox_a.pk}/results/"),
        client.get(f"/sandboxes/{sandbox_a.pk}/"),
        client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/"),
    ]
    forbidden = _forbidden(models_a, items) - {"status"} | {"ERIN-SECRET-RATIONALE", "erin"}
    for n, response in enumerate(responses):
        body = response.content.decode()
        # the sandbox overview lists its members (Erin among them): that is not her ratings
        words = forbidden - {"erin"} if n >= len(responses) - 2 else forbidden
        for word in words:
            assert word not in body, (response.request["PATH_INFO"], word)
    assert responses[6].status_code == responses[7].status_code == 403
    assert responses[8].status_code == 403


def test_no_url_carries_a_model_run_or_turn_id(client, bob, sandbox_a, items, models_a):
    client.force_login(bob)
    html = client.get(f"/sandboxes/{sandbox_a.pk}/rate/").content.decode()
    turn_ids = set(Turn.objects.filter(run=items).values_list("pk", flat=True))
    session_ids = set(Session.objects.filter(run=items).values_list("pk", flat=True))
    links = [h for h in re.findall(r'(?:href|action|src)="([^"]+)"', html)
             if h.startswith(("/sandboxes/", "/api/"))]
    assert links
    for href in links:
        numbers = {int(n) for n in re.findall(r"\d+", href)} - {sandbox_a.pk}
        assert not numbers & ({items.pk} | turn_ids | session_ids
                              | {m.pk for m in models_a}), href


def test_the_queue_order_does_not_follow_the_models(sandbox_a, items):
    """The queue is ordered by a random key, not by model or creation: among 12 single
    items of 3 models, a model-grouped order would come up by chance 1 time in 34,650."""
    models = list(RatingItem.objects.filter(sandbox=sandbox_a, kind="single")
                  .order_by("order_key").values_list("model_a_id", flat=True))
    assert len(models) == 12
    assert models != sorted(models) and models != sorted(models, reverse=True)
    keys = list(RatingItem.objects.filter(sandbox=sandbox_a).values_list("order_key", flat=True))
    assert len(set(keys)) == len(keys)


def test_gold_items_look_like_any_other_item(api, alice, bob, sandbox_a, items):
    from sandbox.ratings.models import Rubric
    from sandbox.ratings.services import rating_config_update, rating_item_mark_gold

    rubric = Rubric.objects.current_for(sandbox_a)
    item = RatingItem.objects.filter(sandbox=sandbox_a, kind="single").first()
    rating_item_mark_gold(item=item, actor=alice,
                          values={o["key"]: 1 if o["scale"] == "binary" else 2
                                  for o in rubric.objectives})
    rating_config_update(sandbox=sandbox_a, actor=alice, gold_rate=1.0)
    served = next_item(api(bob), sandbox_a)
    assert served["id"] == str(item.pk)
    assert set(served) == ITEM_KEYS and "gold" not in json.dumps(served).lower()
    response = submit(api(bob), sandbox_a, served)
    assert response.status_code == 201
    assert set(response.json()) == {"id", "item", "version", "is_current", "supersedes",
                                    "rubric_version", "values", "rationale", "flags",
                                    "created_at"}


def test_after_release_experts_see_model_names_but_only_their_own_quality(
        api, alice, bob, sandbox_a, items, models_a, experts):
    for expert in experts:
        item = next_item(api(expert), sandbox_a)
        submit(api(expert), sandbox_a, item)
    results_release(sandbox=sandbox_a, actor=alice)
    response = api(bob).get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/")
    assert response.status_code == 200
    data = response.json()
    assert {m["label"] for m in data["models"]} <= {m.name for m in models_a}
    assert [r["rater"] for r in data["raters"]] == ["bob"]
    operator_view = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/results/").json()
    assert {r["rater"] for r in operator_view["raters"]} == {"bob", "erin", "ed"}


@pytest.mark.parametrize("fmt", ["ratings-long", "trl-preference", "helpsteer"])
def test_exports_never_name_a_model_or_an_expert(api, alice, sandbox_a, items, models_a,
                                                 experts, fmt):
    rng = random.Random(5)
    for expert in experts:
        for _ in range(8):
            item = next_item(api(expert), sandbox_a)
            submit(api(expert), sandbox_a, item, values_for(item, lambda p, k: rng.choice(p)))
    results_release(sandbox=sandbox_a, actor=alice)
    body = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/exports/{fmt}/").content.decode()
    assert body
    for word in [m.name for m in models_a] + ["bob", "erin", '"ed"']:
        assert word not in body
