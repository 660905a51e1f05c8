"""Assignment: k distinct experts per item, leases, skips, 204 when done, bad input as 400."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.audit.models import AuditEvent
from sandbox.ratings.models import Assignment, ItemStatus, Rating, RatingItem
from tests.ratings.conftest import make_models, make_run
from tests.ratings.helpers import next_item, rate_everything, submit, values_for


@pytest.fixture
def small(sandbox_a, alice):
    """One scenario, one turn, two models: two single items and one pair."""
    from sandbox.ratings.services import rating_items_create_for_run

    models = make_models(sandbox_a, ["Small-A", "Small-B"])
    run = make_run(sandbox_a, models, scenarios={"s": ["What is a normal resting pulse?"]})
    rating_items_create_for_run(run=run, actor=alice)
    return run


def test_next_leases_an_item_and_returns_it_again_until_rated(api, bob, sandbox_a, items):
    client = api(bob)
    first = next_item(client, sandbox_a)
    again = next_item(client, sandbox_a)
    assert first["id"] == again["id"]
    assert Assignment.objects.filter(expert=bob).count() == 1
    assert submit(client, sandbox_a, first).status_code == 201
    following = next_item(client, sandbox_a)
    assert following["id"] != first["id"]
    assert following["progress"]["done"] == 1


def test_an_expert_never_gets_an_item_they_rated(api, bob, sandbox_a, items):
    client = api(bob)
    rated = set()
    while (item := next_item(client, sandbox_a)) is not None:
        assert item["id"] not in rated
        rated.add(item["id"])
        assert submit(client, sandbox_a, item).status_code == 201
    assert len(rated) == 24
    assert client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/rating-queue/next/").status_code == 204


def test_each_item_gets_exactly_k_distinct_experts(api, sandbox_a, small, experts):
    sandbox_a.raters_per_item = 2
    sandbox_a.save()
    RatingItem.objects.filter(sandbox=sandbox_a).update(needed=2)
    counts = [rate_everything(api(e), sandbox_a) for e in experts]
    assert sum(counts) == 3 * 2
    for item in RatingItem.objects.filter(sandbox=sandbox_a):
        raters = list(item.ratings.values_list("rater_id", flat=True))
        assert len(raters) == len(set(raters)) == 2
        assert item.status in (ItemStatus.COMPLETE, ItemStatus.ADJUDICATION)


def test_a_lease_keeps_the_place_until_it_expires(api, sandbox_a, small, experts):
    sandbox_a.raters_per_item = 1
    sandbox_a.save()
    RatingItem.objects.filter(sandbox=sandbox_a).update(needed=1)
    bob, erin, _ed = experts
    held = {next_item(api(e), sandbox_a)["id"] for e in (bob, erin)}
    assert len(held) == 2
    ed_client = api(_ed)
    third = next_item(ed_client, sandbox_a)
    assert third["id"] not in held
    assert next_item(ed_client, sandbox_a)["id"] == third["id"]  # still his own lease
    assert submit(ed_client, sandbox_a, third).status_code == 201
    assert next_item(ed_client, sandbox_a) is None  # the other two are leased
    Assignment.objects.filter(expert=bob).update(expires_at=timezone.now() - timedelta(seconds=1))
    freed = next_item(ed_client, sandbox_a)
    assert freed is not None and freed["id"] in held
    # Bob's lease expired and Ed took the place: Bob's late submission is refused clearly
    late = submit(api(bob), sandbox_a, freed)
    assert late.status_code == 400
    assert "expired" in late.json()["item"][0]


def test_an_expired_lease_is_still_accepted_when_the_place_is_free(api, bob, sandbox_a, small):
    client = api(bob)
    item = next_item(client, sandbox_a)
    Assignment.objects.filter(expert=bob).update(expires_at=timezone.now() - timedelta(hours=1))
    assert submit(client, sandbox_a, item).status_code == 201


def test_skip_needs_a_reason_and_the_item_is_not_offered_again(api, bob, sandbox_a, small):
    client = api(bob)
    item = next_item(client, sandbox_a)
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/rating-queue/skip/"
    missing = client.post(url, {"item": item["id"], "reason": " "}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    assert client.post(url, {"item": item["id"], "reason": "I lack the expertise"},
                       format="json").status_code == 200
    offered = set()
    while (other := next_item(client, sandbox_a)) is not None:
        offered.add(other["id"])
        submit(client, sandbox_a, other)
    assert item["id"] not in offered and len(offered) == 2
    event = AuditEvent.objects.filter(sandbox=sandbox_a, action="rating.skip").get()
    assert event.payload == {"reason": "I lack the expertise"}


def test_out_of_scale_values_get_a_400_naming_the_objective(api, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    values = values_for(item)
    key = next(iter(values))
    values[key] = 99
    response = submit(client, sandbox_a, item, values)
    assert response.status_code == 400
    message = response.json()[f"values.{key}"][0]
    assert "99" in message and "outside" in message
    del values[key]
    response = submit(client, sandbox_a, item, values)
    assert response.json()[f"values.{key}"] == ["This value is required."]
    values[key], values["charm"] = 3, 5
    response = submit(client, sandbox_a, item, values)
    assert "values.charm" in response.json()
    assert Rating.objects.count() == 0


def test_a_pair_preference_outside_minus3_plus3_is_refused(api, bob, sandbox_a, items):
    client = api(bob)
    while (item := next_item(client, sandbox_a))["kind"] != "pair":
        submit(client, sandbox_a, item)
    values = values_for(item)
    values["overall"] = 4
    response = submit(client, sandbox_a, item, values)
    assert response.status_code == 400
    assert "values.overall" in response.json()
    values["overall"] = -3
    assert submit(client, sandbox_a, item, values).status_code == 201


def test_rating_an_item_not_leased_to_you_is_a_400(api, bob, sandbox_a, items, experts):
    erin = experts[1]
    theirs = next_item(api(erin), sandbox_a)
    response = submit(api(bob), sandbox_a, theirs)
    assert response.status_code == 400
    assert response.json() == {"item": ["This item is not leased to you."]}
    unknown = submit(api(bob), sandbox_a, {**theirs, "id": "not-a-uuid"})
    assert unknown.json() == response.json()


def test_a_double_submission_is_a_400_and_keeps_the_first(api, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    assert submit(client, sandbox_a, item).status_code == 201
    again = submit(client, sandbox_a, item, values_for(item, lambda p, k: p[0]))
    assert again.status_code == 400
    assert "already rated" in again.json()["item"][0]
    assert Rating.objects.filter(rater=bob).count() == 1


def test_flags_and_rationale_are_checked(api, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    bad = submit(client, sandbox_a, item, flags=["unsafe", "boring"])
    assert bad.status_code == 400 and "boring" in bad.json()["flags"][0]
    good = submit(client, sandbox_a, item, flags=["unsafe", "hallucination"],
                  rationale="Recommends a dose above the label limit.")
    assert good.status_code == 201
    assert good.json()["flags"] == ["hallucination", "unsafe"]


def test_an_edit_creates_a_new_version_and_never_overwrites(api, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    first = submit(client, sandbox_a, item, values_for(item, lambda p, k: p[0])).json()
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/{first['id']}/"
    response = client.patch(url, {"values": values_for(item), "rationale": "second thoughts"},
                            format="json")
    assert response.status_code == 200, response.content
    second = response.json()
    assert second["version"] == 2 and second["supersedes"] == first["id"]
    assert second["id"] != first["id"]
    old = Rating.objects.get(pk=first["id"])
    assert old.values == first["values"] and not old.is_current
    assert client.patch(url, {"values": values_for(item)}, format="json").status_code == 400
    mine = client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/").json()
    assert [r["id"] for r in mine] == [second["id"]]
    history = client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/?all=1").json()
    assert [r["version"] for r in history] == [1, 2]


def test_nobody_can_edit_another_experts_rating(api, bob, sandbox_a, items, experts):
    client = api(bob)
    item = next_item(client, sandbox_a)
    rating = submit(client, sandbox_a, item).json()
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/ratings/{rating['id']}/"
    response = api(experts[1]).patch(url, {"values": values_for(item)}, format="json")
    assert response.status_code == 400
    assert api(experts[1]).get(url).status_code == 404


def test_a_changed_rubric_version_is_reported(api, alice, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    from sandbox.ratings.models import Rubric
    from sandbox.ratings.services import rubric_create

    rubric_create(sandbox=sandbox_a, actor=alice, objectives=Rubric.objects.current_for(
        sandbox_a).objectives, note="same, re-saved")
    response = submit(client, sandbox_a, item, rubric_version=item["rubric"]["version"])
    assert response.status_code == 400
    assert "version 2" in response.json()["rubric_version"][0]
    saved = submit(client, sandbox_a, item, rubric_version=2)
    assert saved.status_code == 201 and saved.json()["rubric_version"] == 2


def test_submissions_are_committed_and_audited(api, bob, sandbox_a, items):
    client = api(bob)
    item = next_item(client, sandbox_a)
    rating = submit(client, sandbox_a, item).json()
    event = AuditEvent.objects.filter(sandbox=sandbox_a, action="rating.submit").get()
    assert event.payload["rating"] == rating["id"]
    assert Rating.objects.filter(pk=rating["id"]).exists()
