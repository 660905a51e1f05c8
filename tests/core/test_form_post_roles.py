"""Role checks on the HTML forms' POSTs: the operator's forms of the sandbox and rating pages.

Each form is posted by the sandbox's expert and regulator (403: members without the
capability), by another sandbox's operator and by a user with no role (404: the sandbox is
not revealed), and anonymously (sent to sign in). In every refused case the database is
unchanged: the sandboxes, memberships, rubrics, rating settings, items, adjudications and
the audit trail are compared before and after. One case per form shows that the operator's
POST does change something, so that the refusals mean something.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from sandbox.audit.models import AuditEvent
from sandbox.core.models import Membership, Sandbox
from sandbox.ratings.models import Adjudication, ItemStatus, RatingConfig, RatingItem, Rubric
from sandbox.ratings.services import rating_items_create_for_run
from tests.conftest import make_user
from tests.ratings.conftest import make_models, make_run

REFUSED = {"expert": 403, "regulator": 403, "other": 404, "outsider": 404}


@dataclass
class Form:
    name: str
    path: str  # formatted with the ids of ``world``
    data: dict
    action: str  # the audit action the operator's POST leaves
    done: Callable  # done(world) -> bool: the operator's POST took effect

    def __str__(self):
        return self.name


def _config(w):
    return RatingConfig.of(w["a"])


FORMS = [
    Form("sandbox-edit", "/sandboxes/{a}/edit/",
         {"name": "Renamed A", "vertical": "medical", "status": "active",
          "max_concurrent_runs": 2, "token_budget": 5000, "raters_per_item": 3},
         "sandbox.update", lambda w: Sandbox.objects.get(pk=w["a"]).name == "Renamed A"),
    Form("member-add", "/sandboxes/{a}/members/add/", {"username": "dora", "role": "expert"},
         "member.add",
         lambda w: Membership.objects.filter(sandbox_id=w["a"], user__username="dora",
                                             role="expert").exists()),
    Form("member-role", "/sandboxes/{a}/members/{bob_member}/role/", {"role": "regulator"},
         "member.update",
         lambda w: Membership.objects.get(pk=w["bob_member"]).role == "regulator"),
    Form("member-remove", "/sandboxes/{a}/members/{bob_member}/remove/", {},
         "member.remove", lambda w: not Membership.objects.filter(pk=w["bob_member"]).exists()),
    Form("ratings-release", "/sandboxes/{a}/results/release/", {}, "results.release",
         lambda w: Sandbox.objects.get(pk=w["a"]).results_released),
    Form("ratings-adjudicate", "/sandboxes/{a}/rating-setup/items/{item}/adjudicate/",
         {"decision": "exclude", "note": "form"}, "rating.adjudicate",
         lambda w: RatingItem.objects.get(pk=w["item"]).excluded),
    Form("ratings-rubric-save", "/sandboxes/{a}/rating-setup/rubric/",
         {"objectives": "{objectives}", "note": "copy"}, "rubric.create",
         lambda w: Rubric.objects.current_for(w["a"]).version == 2),
    Form("ratings-rubric-defaults", "/sandboxes/{a}/rating-setup/rubric/defaults/", {},
         "rubric.create", lambda w: Rubric.objects.current_for(w["a"]).version == 2),
    Form("ratings-settings-save", "/sandboxes/{a}/rating-setup/settings/",
         {"raters_per_item": 4, "gold_rate": 0.3, "lease_minutes": 20,
          "agreement_floor": 0.6}, "rating.settings",
         lambda w: (_config(w).gold_rate, _config(w).lease_minutes,
                    Sandbox.objects.get(pk=w["a"]).raters_per_item) == (0.3, 20, 4)),
    Form("ratings-items-generate", "/sandboxes/{a}/rating-setup/generate/",
         {"run": "{fresh_run}"}, "rating.items_create",
         lambda w: RatingItem.objects.filter(run_id=w["fresh_run"]).exists()),
]


@pytest.fixture
def world(alice, bob, rita, charlie, olga, sandbox_a, sandbox_b):
    """Sandbox A with an item awaiting adjudication and a run without items; B alike."""
    from sandbox.core import services as core

    make_user("dora")
    models = make_models(sandbox_a, ["Form-1", "Form-2"])
    run = make_run(sandbox_a, models, scenarios={"f": ["question f"]})
    rating_items_create_for_run(run=run, actor=alice)
    item = RatingItem.objects.filter(run=run, kind="single").first()
    RatingItem.objects.filter(pk=item.pk).update(status=ItemStatus.ADJUDICATION)
    fresh_run = make_run(sandbox_a, models, scenarios={"g": ["question g"]})

    make_user("bea")
    bea = core.membership_add(sandbox=sandbox_b, actor=charlie, username="bea", role="expert")
    b_run = make_run(sandbox_b, make_models(sandbox_b, ["B-1", "B-2"]),
                     scenarios={"b": ["question b"]})
    rating_items_create_for_run(run=b_run, actor=charlie)
    b_item = RatingItem.objects.filter(run=b_run, kind="single").first()
    RatingItem.objects.filter(pk=b_item.pk).update(status=ItemStatus.ADJUDICATION)
    b_fresh_run = make_run(sandbox_b, make_models(sandbox_b, ["B-3"]),
                           scenarios={"b2": ["question b2"]})
    return {
        "a": sandbox_a.pk, "b": sandbox_b.pk, "item": str(item.pk), "b_item": str(b_item.pk),
        "bob_member": sandbox_a.memberships.get(user=bob).pk, "bea_member": bea.pk,
        "fresh_run": fresh_run.pk, "b_fresh_run": b_fresh_run.pk,
        "objectives": json.dumps(Rubric.objects.current_for(sandbox_a).objectives),
        "people": {"operator": alice, "expert": bob, "regulator": rita, "other": charlie,
                   "outsider": olga},
    }


def _fill(form: Form, world: dict, **override) -> tuple[str, dict]:
    ids = {**world, **override}
    data = {}
    for key, value in form.data.items():
        if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
            value = ids[value[1:-1]]
        data[key] = value
    return form.path.format(**ids), data


def _state() -> dict:
    """Every row a form of these pages may change, and the size of the audit trail."""
    return {
        "sandboxes": list(Sandbox.objects.order_by("pk").values()),
        "memberships": list(Membership.objects.order_by("pk")
                            .values_list("pk", "sandbox_id", "user_id", "role")),
        "rubrics": list(Rubric.objects.order_by("pk").values_list("pk", "sandbox_id",
                                                                  "version")),
        "configs": list(RatingConfig.objects.order_by("pk").values()),
        "items": list(RatingItem.objects.order_by("pk")
                      .values_list("pk", "sandbox_id", "status", "excluded", "needed",
                                   "is_gold")),
        "adjudications": Adjudication.objects.count(),
        "audit": list(AuditEvent.objects.order_by("pk").values_list("pk", "action")),
    }


def _audit_actions() -> list[str]:
    return list(AuditEvent.objects.order_by("pk").values_list("action", flat=True))


@pytest.mark.parametrize("role", REFUSED)
@pytest.mark.parametrize("form", FORMS, ids=str)
def test_members_without_the_role_and_strangers_are_refused(client, world, form, role):
    client.force_login(world["people"][role])
    path, data = _fill(form, world)
    before = _state()
    response = client.post(path, data)
    assert response.status_code == REFUSED[role], (form.name, role, response.status_code)
    if response.status_code == 404:
        assert b"Sandbox A" not in response.content
    assert _state() == before
    assert not form.done(world)


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_anonymous_posts_are_sent_to_sign_in(client, world, form):
    path, data = _fill(form, world)
    before = _state()
    response = client.post(path, data)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert _state() == before


@pytest.mark.parametrize("form", FORMS, ids=str)
def test_the_operators_post_takes_effect(client, world, form):
    client.force_login(world["people"]["operator"])
    path, data = _fill(form, world)
    assert not form.done(world)
    before = _audit_actions()
    response = client.post(path, data)
    assert response.status_code == 302, (form.name, response.content[:500])
    assert form.done(world)
    assert _audit_actions() == [*before, form.action]


# The operator of A reaching B's rows through A's URLs, and B's operator reaching A's rows
# through B's URLs: the row is "not found" in the sandbox of the URL.
CROSS = [
    ("alice", "member-role", {"bob_member": "{bea_member}"}),
    ("alice", "member-remove", {"bob_member": "{bea_member}"}),
    ("alice", "ratings-adjudicate", {"item": "{b_item}"}),
    ("charlie", "member-role", {"a": "{b}"}),
    ("charlie", "member-remove", {"a": "{b}"}),
    ("charlie", "ratings-adjudicate", {"a": "{b}"}),
]


@pytest.mark.parametrize("who, name, override", CROSS,
                         ids=[f"{w}-{n}" for w, n, _ in CROSS])
def test_rows_of_another_sandbox_are_not_found_through_ones_own(client, request, world, who,
                                                               name, override):
    form = next(f for f in FORMS if f.name == name)
    override = {k: world[v[1:-1]] for k, v in override.items()}
    client.force_login(request.getfixturevalue(who))
    path, data = _fill(form, world, **override)
    before = _state()
    response = client.post(path, data)
    assert response.status_code == 404, (path, response.status_code)
    assert _state() == before


def test_generating_from_another_sandboxs_run_changes_nothing(client, alice, world):
    form = next(f for f in FORMS if f.name == "ratings-items-generate")
    client.force_login(alice)
    path, data = _fill(form, world, fresh_run=world["b_fresh_run"])
    before = _state()
    response = client.post(path, data, follow=True)
    assert response.status_code == 200
    assert "No run with this id in this sandbox." in response.content.decode()
    assert _state() == before
    assert not RatingItem.objects.filter(run_id=world["b_fresh_run"]).exists()
