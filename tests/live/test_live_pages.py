"""The dashboard, the run view and the audit page: who may open them, and their forms."""

import pytest
from django.test import Client

from sandbox.audit.models import AuditEvent
from sandbox.live.models import Annotation
from sandbox.runs.models import Run
from tests.live.test_oversight_api import add_turn
from tests.matrix import ROLES

PAGE = {"operator": 200, "expert": 403, "regulator": 200, "outsider": 404, "other": 404,
        "anonymous": 302}
OVERSEE_POST = {"operator": 403, "expert": 403, "regulator": 302, "outsider": 404, "other": 404,
                "anonymous": 302}
PAGES = ["/sandboxes/{a}/live/", "/sandboxes/{a}/live/runs/{run_a}/", "/sandboxes/{a}/audit/",
         "/sandboxes/{a}/audit/export.jsonl"]
POSTS = [("/sandboxes/{a}/live/runs/{run_a}/halt/", {"reason": "unsafe"}),
         ("/sandboxes/{a}/live/suspend/", {"reason": "risk"}),
         ("/sandboxes/{a}/live/runs/{run_a}/annotate/", {"turn": "{turn}", "note": "n"})]


def client_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def fmt(value, world):
    return value.format(a=world.a.pk, b=world.b.pk, run_a=world.run_a.pk, run_b=world.run_b.pk,
                        turn=getattr(world, "turn", ""))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("path", PAGES)
def test_monitoring_pages_permission_matrix(world, path, role):
    response = client_for(world.people[role]).get(fmt(path, world))
    assert response.status_code == PAGE[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "data"), POSTS)
def test_oversight_forms_permission_matrix(world, path, data, role):
    world.turn = add_turn(world.run_a).pk
    body = {k: fmt(v, world) for k, v in data.items()}
    response = client_for(world.people[role]).post(fmt(path, world), body)
    assert response.status_code == OVERSEE_POST[role]


def test_another_sandboxs_run_is_not_found_through_this_sandbox(world):
    rita = client_for(world.people["regulator"])
    assert rita.get(f"/sandboxes/{world.a.pk}/live/runs/{world.run_b.pk}/").status_code == 404
    response = rita.post(f"/sandboxes/{world.a.pk}/live/runs/{world.run_b.pk}/halt/",
                         {"reason": "x"})
    assert response.status_code == 404
    assert Run.objects.get(pk=world.run_b.pk).status == "queued"


def test_the_dashboard_lists_runs_and_offers_regulators_their_powers(world):
    page = client_for(world.people["regulator"]).get(f"/sandboxes/{world.a.pk}/live/").content
    assert f'data-run="{world.run_a.pk}"'.encode() in page
    assert f'data-run="{world.run_b.pk}"'.encode() not in page
    assert b'id="suspend-form"' in page and b"halt-form" in page
    operator = client_for(world.people["operator"]).get(f"/sandboxes/{world.a.pk}/live/").content
    assert b'id="suspend-form"' not in operator and b"halt-form" not in operator


def test_halting_from_the_page_needs_a_reason(world):
    rita = client_for(world.people["regulator"])
    url = f"/sandboxes/{world.a.pk}/live/runs/{world.run_a.pk}/halt/"
    response = rita.post(url, {"reason": ""}, follow=True)
    assert "Reason: This field is required." in response.content.decode()
    assert Run.objects.get(pk=world.run_a.pk).status == "queued"
    rita.post(url, {"reason": "unsafe"})
    assert Run.objects.get(pk=world.run_a.pk).status == "halted"
    assert AuditEvent.objects.chain(world.a.pk).last().action == "run.halt"


def test_suspending_and_lifting_from_the_page(world):
    rita = client_for(world.people["regulator"])
    page = rita.post(f"/sandboxes/{world.a.pk}/live/suspend/", {"reason": "risk"},
                     follow=True).content.decode()
    assert 'id="suspended-banner"' in page and 'id="lift-form"' in page
    assert Run.objects.get(pk=world.run_a.pk).status == "halted"
    rita.post(f"/sandboxes/{world.a.pk}/live/lift-suspension/", {"reason": "ok"})
    world.a.refresh_from_db()
    assert world.a.status == "active"


def test_annotating_from_the_run_page_shows_the_note_escaped(world):
    turn = add_turn(world.run_a)
    rita = client_for(world.people["regulator"])
    rita.post(f"/sandboxes/{world.a.pk}/live/runs/{world.run_a.pk}/annotate/",
              {"turn": turn.pk, "note": "<script>alert(1)</script>", "severity": "high"})
    assert Annotation.objects.get().severity == "high"
    page = client_for(world.people["operator"]).get(
        f"/sandboxes/{world.a.pk}/live/runs/{world.run_a.pk}/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page
    foreign = add_turn(world.run_b)
    response = rita.post(f"/sandboxes/{world.a.pk}/live/runs/{world.run_a.pk}/annotate/",
                         {"turn": foreign.pk, "note": "x"}, follow=True)
    assert "Turn: Choose a completed turn of this run." in response.content.decode()
    assert Annotation.objects.count() == 1


def test_the_audit_page_shows_the_verification_status(world):
    page = client_for(world.people["regulator"]).get(f"/sandboxes/{world.a.pk}/audit/")
    text = page.content.decode()
    assert 'id="audit-status"' in text and "Chain intact" in text
    count = AuditEvent.objects.chain(world.a.pk).count()
    assert text.count('class="audit-row"') == count
    export = client_for(world.people["operator"]).get(f"/sandboxes/{world.a.pk}/audit/export.jsonl")
    assert len(b"".join(export.streaming_content).splitlines()) == count


def test_the_audit_page_names_a_broken_link(world):
    from django.db import connection

    event = AuditEvent.objects.chain(world.a.pk)[1]
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        cursor.execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER audit_event_no_update_delete")
    text = client_for(world.people["regulator"]).get(f"/sandboxes/{world.a.pk}/audit/").content
    assert b"Chain broken" in text
    assert f"event {event.seq}".encode() in text
