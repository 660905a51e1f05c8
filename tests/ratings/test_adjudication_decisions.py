"""The adjudicator's ``exclude`` and ``accept`` decisions, and who may take them.

Worked example: one model answered two scenarios ("d1", "d2") with one turn each, so
there are two single items; three experts rate both. On "d1" they disagree on "help"
(1, 5, 3: agreement 0, below the floor of 0.5) and the item waits for adjudication; on
"d2" they agree (4, 4, 4) and it is complete. Before any decision the results count both
items: the help mean is the mean of item means, (3 + 4) / 2 = 3.5.

- ``exclude`` leaves "d1" out of the results (help mean 4, one item), of the exports and of
  the queue; ``counts.excluded_items`` reports it.
- ``accept`` keeps the experts' ratings: "d1" counts with the raters' mean (3.5 stays).
"""

import json

import pytest

from sandbox.audit.models import AuditEvent
from sandbox.ratings.models import Adjudication, ItemStatus, RatingItem
from sandbox.ratings.services import (
    rating_config_update,
    rating_items_create_for_run,
    results_release,
    rubric_create,
)
from tests.ratings.conftest import add_expert, make_models, make_run
from tests.ratings.helpers import next_item, submit
from tests.ratings.test_results import RUBRIC

HELP = {"d1": (1, 5, 3), "d2": (4, 4, 4)}  # per scenario, per expert (bob, erin, ed)


def _results(api, user, sandbox):
    response = api(user).get(f"/api/v1/sandboxes/{sandbox.pk}/results/")
    assert response.status_code == 200, response.content
    return response.json()


def _help_mean(results):
    rows = [r for r in results["objective_means"] if r["objective"] == "help"]
    assert len(rows) == 1, rows  # one model
    return rows[0]


def _url(sandbox, item):
    return f"/api/v1/sandboxes/{sandbox.pk}/rating-items/{item.pk}/adjudicate/"


def _snapshot(item):
    item = RatingItem.objects.get(pk=item.pk)
    return (item.status, item.excluded, item.needed, item.ratings_count,
            Adjudication.objects.filter(item=item).count(),
            AuditEvent.objects.filter(action="rating.adjudicate").count())


@pytest.fixture
def disputed(api, alice, sandbox_a, experts):
    """The worked example; returns (disputed item "d1", agreed item "d2")."""
    rubric_create(sandbox=sandbox_a, actor=alice, objectives=RUBRIC)
    rating_config_update(sandbox=sandbox_a, actor=alice, agreement_floor=0.5)
    models = make_models(sandbox_a, ["Adj-1"])
    run = make_run(sandbox_a, models, scenarios={"d1": ["q1"], "d2": ["q2"]})
    assert rating_items_create_for_run(run=run, actor=alice) == 2
    for position, expert in enumerate(experts):
        client = api(expert)
        while (leased := next_item(client, sandbox_a)) is not None:
            scenario = RatingItem.objects.get(pk=leased["id"]).variant_id
            values = {"help": HELP[scenario][position], "safe": 4}
            response = submit(client, sandbox_a, leased, values)
            assert response.status_code == 201, response.content
    d1 = RatingItem.objects.get(run=run, variant_id="d1")
    d2 = RatingItem.objects.get(run=run, variant_id="d2")
    assert d1.status == ItemStatus.ADJUDICATION and d2.status == ItemStatus.COMPLETE
    return d1, d2


def test_before_any_decision_both_items_count(api, alice, sandbox_a, disputed):
    results = _results(api, alice, sandbox_a)
    row = _help_mean(results)
    assert row["mean"] == pytest.approx(3.5) and row["n_items"] == 2
    assert results["counts"]["awaiting_adjudication"] == 1
    assert results["counts"]["excluded_items"] == 0


def test_exclude_leaves_the_item_out_of_results_and_counts_it(api, alice, sandbox_a, disputed):
    d1, d2 = disputed
    response = api(alice).post(_url(sandbox_a, d1), {"decision": "exclude",
                                                     "note": "off-label question"},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "exclude"
    assert response.json()["decided_by"] == "alice"
    d1.refresh_from_db()
    assert d1.excluded and d1.status == ItemStatus.ADJUDICATED
    assert d1.ratings.count() == 3  # the experts' ratings are kept

    results = _results(api, alice, sandbox_a)
    row = _help_mean(results)
    assert row["mean"] == pytest.approx(4.0)  # d2's mean only
    assert row["n_items"] == 1 and row["n_ratings"] == 3
    composite = results["composite"]
    assert len(composite) == 1 and composite[0]["n_items"] == 1
    assert results["counts"]["excluded_items"] == 1
    assert results["counts"]["awaiting_adjudication"] == 0


def test_exclude_is_recorded_in_the_audit_trail(api, alice, sandbox_a, disputed):
    d1, _ = disputed
    before = AuditEvent.objects.filter(sandbox=sandbox_a).count()
    response = api(alice).post(_url(sandbox_a, d1), {"decision": "exclude", "note": "  why  "},
                               format="json")
    assert response.status_code == 200, response.content
    events = AuditEvent.objects.filter(sandbox=sandbox_a, action="rating.adjudicate")
    assert AuditEvent.objects.filter(sandbox=sandbox_a).count() == before + 1
    assert events.count() == 1
    event = events.get()
    assert event.actor == alice
    assert event.target_type == "ratings.ratingitem" and event.target_id == str(d1.pk)
    assert event.payload["decision"] == "exclude" and event.payload["note"] == "why"
    detail = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/rating-items/{d1.pk}/").json()
    assert [a["decision"] for a in detail["adjudications"]] == ["exclude"]
    assert detail["excluded"] is True


@pytest.mark.parametrize("fmt", ["ratings-long", "ratings-long-csv"])
def test_exclude_leaves_the_item_out_of_the_long_export(api, alice, sandbox_a, disputed, fmt):
    d1, d2 = disputed
    assert api(alice).post(_url(sandbox_a, d1), {"decision": "exclude"},
                           format="json").status_code == 200
    results_release(sandbox=sandbox_a, actor=alice)
    response = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/exports/{fmt}/")
    assert response.status_code == 200, response.content
    text = response.content.decode()
    if fmt == "ratings-long":
        item_ids = [json.loads(line)["item_id"] for line in text.splitlines() if line.strip()]
        assert len(item_ids) == 3 * 2  # d2: three raters × two objectives
        assert set(item_ids) == {str(d2.pk)}
    else:
        assert str(d2.pk) in text
    assert str(d1.pk) not in text


def test_exclude_keeps_the_item_out_of_a_new_experts_queue(api, alice, sandbox_a, disputed):
    d1, _ = disputed
    assert api(alice).post(_url(sandbox_a, d1), {"decision": "exclude"},
                           format="json").status_code == 200
    # another item, still open, so that the queue has something to offer
    later = make_run(sandbox_a, [d1.model_a], scenarios={"d3": ["q3"]})
    rating_items_create_for_run(run=later, actor=alice)
    d3 = RatingItem.objects.get(run=later)
    fay = api(add_expert(sandbox_a, alice, "fay"))
    offered = []
    while (leased := next_item(fay, sandbox_a)) is not None:
        offered.append(leased["id"])
        assert submit(fay, sandbox_a, leased).status_code == 201
    assert offered == [str(d3.pk)]
    assert str(d1.pk) not in offered


def test_accept_keeps_the_raters_ratings_in_results(api, alice, sandbox_a, disputed):
    d1, d2 = disputed
    response = api(alice).post(_url(sandbox_a, d1), {"decision": "accept"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["decision"] == "accept" and response.json()["values"] == {}
    d1.refresh_from_db()
    assert d1.status == ItemStatus.ADJUDICATED and not d1.excluded
    assert d1.needed == 3 and d1.ratings.count() == 3

    results = _results(api, alice, sandbox_a)
    row = _help_mean(results)
    assert row["mean"] == pytest.approx(3.5)  # the raters' mean of d1 (3) still counts
    assert row["n_items"] == 2 and row["n_ratings"] == 6
    assert results["counts"]["excluded_items"] == 0
    assert results["counts"]["awaiting_adjudication"] == 0
    assert results["counts"]["complete_items"] == 2
    event = AuditEvent.objects.get(sandbox=sandbox_a, action="rating.adjudicate")
    assert event.payload["decision"] == "accept" and event.target_id == str(d1.pk)

    results_release(sandbox=sandbox_a, actor=alice)
    export = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/exports/ratings-long/")
    item_ids = {json.loads(line)["item_id"] for line in export.content.decode().splitlines()}
    assert item_ids == {str(d1.pk), str(d2.pk)}


def test_a_decided_item_cannot_be_decided_again(api, alice, sandbox_a, disputed):
    d1, _ = disputed
    assert api(alice).post(_url(sandbox_a, d1), {"decision": "accept"},
                           format="json").status_code == 200
    again = api(alice).post(_url(sandbox_a, d1), {"decision": "exclude"}, format="json")
    assert again.status_code == 400 and "item" in again.json()
    d1.refresh_from_db()
    assert not d1.excluded
    assert Adjudication.objects.filter(item=d1).count() == 1


@pytest.mark.parametrize("decision", ["exclude", "accept"])
@pytest.mark.parametrize("who, expected", [("bob", 403), ("rita", 403), ("charlie", 404),
                                           ("olga", 404)])
def test_only_the_sandboxs_operators_adjudicate(api, request, sandbox_a, sandbox_b, disputed,
                                                decision, who, expected):
    d1, _ = disputed
    before = _snapshot(d1)
    user = request.getfixturevalue(who)
    response = api(user).post(_url(sandbox_a, d1), {"decision": decision}, format="json")
    assert response.status_code == expected, response.content
    assert _snapshot(d1) == before
    assert before[0] == ItemStatus.ADJUDICATION and before[1] is False


@pytest.mark.parametrize("decision", ["exclude", "accept"])
def test_another_sandboxs_operator_cannot_reach_the_item_through_their_own_sandbox(
        api, charlie, sandbox_a, sandbox_b, disputed, decision):
    d1, _ = disputed
    before = _snapshot(d1)
    response = api(charlie).post(_url(sandbox_b, d1), {"decision": decision}, format="json")
    assert response.status_code == 404, response.content
    assert _snapshot(d1) == before
