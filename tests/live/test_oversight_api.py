"""Halting runs, suspending the sandbox, annotations and the audit API: every endpoint ×
every role × own and other sandbox, then what each act does."""

import hashlib
import json

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from sandbox.audit.models import AuditEvent, canonical_json
from sandbox.audit.services import verify_chain
from sandbox.core.models import SandboxStatus
from sandbox.live.models import Annotation, RunEvent
from sandbox.runs.models import Run, RunStatus, Turn
from tests.live.conftest import make_run
from tests.matrix import MONITOR, OVERSEE, ROLES, Endpoint, call, with_success

AUDIT = MONITOR  # operators and regulators
NOBODY_FINDS = {"operator": 404, "expert": 404, "regulator": 404, "outsider": 404, "other": 404,
                "anonymous": 401}
# Members without the capability are refused before any lookup; those with it find nothing.
OVERSEE_FOREIGN = {"operator": 403, "expert": 403, "regulator": 404, "outsider": 404,
                   "other": 404, "anonymous": 401}

ENDPOINTS = [
    Endpoint("POST", "/api/v1/sandboxes/{a}/runs/{run_a}/halt/", OVERSEE,
             body={"reason": "unsafe dosage advice"}),
    Endpoint("POST", "/api/v1/sandboxes/{a}/runs/{run_b}/halt/", OVERSEE_FOREIGN,
             body={"reason": "x"}, label="halt B's run through A's URL"),
    Endpoint("POST", "/api/v1/sandboxes/{b}/runs/{run_b}/halt/",
             {"operator": 404, "expert": 404, "regulator": 404, "outsider": 404, "other": 403,
              "anonymous": 401}, body={"reason": "x"}, label="halt in sandbox B"),
    Endpoint("POST", "/api/v1/sandboxes/{a}/suspend/", OVERSEE, body={"reason": "risk"}),
    Endpoint("POST", "/api/v1/sandboxes/{a}/lift-suspension/",
             with_success(OVERSEE, 400), body={}, label="lift when not suspended"),
    Endpoint("GET", "/api/v1/sandboxes/{a}/annotations/", MONITOR),
    Endpoint("POST", "/api/v1/sandboxes/{a}/annotations/", with_success(OVERSEE, 201),
             body={"turn": "{turn_a}", "note": "borderline", "severity": "medium"}),
    Endpoint("GET", "/api/v1/sandboxes/{a}/audit/", AUDIT),
    Endpoint("GET", "/api/v1/sandboxes/{a}/audit/verify/", AUDIT),
    Endpoint("GET", "/api/v1/sandboxes/{a}/audit/export/", AUDIT),
    Endpoint("GET", "/api/v1/sandboxes/999999/audit/", NOBODY_FINDS, label="missing sandbox"),
]


def add_turn(run, index=0, text="Take 10 g of paracetamol."):
    session = run.sessions.first()
    now = timezone.now()
    return Turn.objects.create(session=session, run=run, sandbox=run.sandbox, index=index,
                               user_message="Dose?", assistant_message=text, status="completed",
                               started_at=now, completed_at=now)


@pytest.fixture
def ids(world):
    world.turn_a = add_turn(world.run_a)
    world.turn_b = add_turn(world.run_b)
    return {"a": world.a.pk, "b": world.b.pk, "run_a": world.run_a.pk, "run_b": world.run_b.pk,
            "turn_a": world.turn_a.pk, "turn_b": world.turn_b.pk}


def fill(endpoint, ids):
    if endpoint.body is None:
        return endpoint
    body = {k: (int(v.format(**ids)) if isinstance(v, str) and v.startswith("{") else v)
            for k, v in endpoint.body.items()}
    return Endpoint(endpoint.method, endpoint.path, endpoint.expect, body=body)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_oversight_permission_matrix(api, world, ids, endpoint, role):
    response = call(api(world.people[role]), fill(endpoint, ids), ids)
    assert response.status_code == endpoint.expect[role], response.content


def test_halting_needs_a_reason_and_says_so(api, world, ids):
    client = api(world.people["regulator"])
    response = client.post(f"/api/v1/sandboxes/{world.a.pk}/runs/{world.run_a.pk}/halt/",
                           {"reason": "  "}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    assert Run.objects.get(pk=world.run_a.pk).status == RunStatus.QUEUED


def test_halting_records_who_why_and_tells_viewers(api, world, ids,
                                                   django_capture_on_commit_callbacks):
    rita = world.people["regulator"]
    with django_capture_on_commit_callbacks() as callbacks:
        response = api(rita).post(f"/api/v1/sandboxes/{world.a.pk}/runs/{world.run_a.pk}/halt/",
                                  {"reason": "unsafe dosage advice"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "halted"
    assert response.json()["halted_by"] == "rita"
    run = Run.objects.get(pk=world.run_a.pk)
    assert (run.status, run.halt_reason, run.halted_by) == ("halted", "unsafe dosage advice",
                                                            rita)
    event = AuditEvent.objects.chain(world.a.pk).last()
    assert (event.action, event.actor_name, event.payload) == (
        "run.halt", "rita", {"reason": "unsafe dosage advice"})
    halted = RunEvent.objects.get(run=run, type="run.halted")
    assert halted.payload["reason"] == "unsafe dosage advice"
    assert len(callbacks) == 1  # the broadcast waits for the commit


def test_halting_a_finished_run_is_a_conflict(api, world, ids):
    Run.objects.filter(pk=world.run_a.pk).update(status=RunStatus.COMPLETED)
    response = api(world.people["regulator"]).post(
        f"/api/v1/sandboxes/{world.a.pk}/runs/{world.run_a.pk}/halt/", {"reason": "late"},
        format="json")
    assert response.status_code == 409
    assert "already finished" in response.json()["detail"]


def test_suspending_halts_every_active_run_and_refuses_new_ones(api, world, ids):
    from sandbox.runs.services import run_start

    second = make_run(world.a)
    done = make_run(world.a)
    Run.objects.filter(pk=done.pk).update(status=RunStatus.COMPLETED)
    rita = world.people["regulator"]
    response = api(rita).post(f"/api/v1/sandboxes/{world.a.pk}/suspend/",
                              {"reason": "significant risk"}, format="json")
    assert response.status_code == 200, response.content
    assert sorted(response.json()["halted_runs"]) == sorted([world.run_a.pk, second.pk])
    world.a.refresh_from_db()
    assert (world.a.status, world.a.suspension_reason) == ("suspended", "significant risk")
    assert Run.objects.get(pk=done.pk).status == RunStatus.COMPLETED
    assert Run.objects.get(pk=world.run_b.pk).status == RunStatus.QUEUED  # other sandbox
    actions = list(AuditEvent.objects.chain(world.a.pk).values_list("action", flat=True))
    assert actions[-3:] == ["sandbox.suspend", "run.halt", "run.halt"]

    with pytest.raises(PermissionDenied, match="suspended by a regulator"):
        run_start(sandbox=world.a, started_by=world.people["operator"],
                  models=list(world.a.models.all()))
    again = api(rita).post(f"/api/v1/sandboxes/{world.a.pk}/suspend/", {"reason": "again"},
                           format="json")
    assert again.status_code == 400 and "status" in again.json()
    operator = api(world.people["operator"]).patch(f"/api/v1/sandboxes/{world.a.pk}/",
                                                   {"status": "active"}, format="json")
    assert operator.status_code == 403

    lifted = api(rita).post(f"/api/v1/sandboxes/{world.a.pk}/lift-suspension/",
                            {"reason": "mitigated"}, format="json")
    assert lifted.status_code == 200
    world.a.refresh_from_db()
    assert (world.a.status, world.a.suspension_reason) == (SandboxStatus.ACTIVE, "")
    last = AuditEvent.objects.chain(world.a.pk).last()
    assert (last.action, last.payload["reason"]) == ("sandbox.lift_suspension", "mitigated")
    assert verify_chain(world.a.pk)[1] is None


def test_suspending_needs_a_reason(api, world, ids):
    response = api(world.people["regulator"]).post(f"/api/v1/sandboxes/{world.a.pk}/suspend/",
                                                   {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    world.a.refresh_from_db()
    assert world.a.status == "active"


def test_annotations_name_the_field_that_is_wrong(api, world, ids):
    client = api(world.people["regulator"])
    url = f"/api/v1/sandboxes/{world.a.pk}/annotations/"
    assert "note" in client.post(url, {"turn": ids["turn_a"]}, format="json").json()
    bad = client.post(url, {"turn": ids["turn_a"], "note": "x", "severity": "apocalyptic"},
                      format="json")
    assert bad.status_code == 400 and "severity" in bad.json()
    foreign = client.post(url, {"turn": ids["turn_b"], "note": "x"}, format="json")
    missing = client.post(url, {"turn": 999999, "note": "x"}, format="json")
    assert foreign.status_code == missing.status_code == 400
    assert foreign.json() == {"turn": [f"No turn {ids['turn_b']} in this sandbox."]}
    assert not Annotation.objects.exists()


def test_an_annotation_is_stored_audited_published_and_read_by_operators(
        api, world, ids, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = api(world.people["regulator"]).post(
            f"/api/v1/sandboxes/{world.a.pk}/annotations/",
            {"turn": ids["turn_a"], "note": "Overdose risk <b>not</b> flagged",
             "severity": "high"}, format="json")
    assert response.status_code == 201, response.content
    note = Annotation.objects.get()
    assert (note.run_id, note.turn_id, note.author.username) == (world.run_a.pk, ids["turn_a"],
                                                                 "rita")
    event = RunEvent.objects.get(run=world.run_a, type="annotation")
    assert event.payload["note"] == "Overdose risk <b>not</b> flagged"
    assert event.payload["turn_id"] == ids["turn_a"]
    assert AuditEvent.objects.chain(world.a.pk).last().action == "annotation.add"
    listed = api(world.people["operator"]).get(
        f"/api/v1/sandboxes/{world.a.pk}/annotations/?run={world.run_a.pk}").json()
    assert [row["note"] for row in listed["results"]] == ["Overdose risk <b>not</b> flagged"]
    other = api(world.people["other"]).get(f"/api/v1/sandboxes/{world.b.pk}/annotations/")
    assert other.json()["results"] == []


def test_the_audit_export_is_the_chain_line_by_line(api, world, ids):
    response = api(world.people["regulator"]).get(f"/api/v1/sandboxes/{world.a.pk}/audit/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jsonl")
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    events = list(AuditEvent.objects.chain(world.a.pk))
    assert [line["seq"] for line in lines] == [e.seq for e in events]
    assert [line["hash"] for line in lines] == [e.hash for e in events]
    assert all(line["sandbox"] == world.a.pk for line in lines)
    previous = "0" * 64
    for line in lines:  # a reader can check the chain from the file alone
        content = canonical_json({k: v for k, v in line.items() if k != "hash"})
        assert hashlib.sha256(content.encode()).hexdigest() == line["hash"]
        assert line["prev_hash"] == previous
        previous = line["hash"]
    verify = api(world.people["operator"]).get(f"/api/v1/sandboxes/{world.a.pk}/audit/verify/")
    assert verify.json() == {"events": len(events), "intact": True, "first_break": None}
