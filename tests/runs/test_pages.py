"""Run and scenario pages: start a run with one click, read transcripts with model output
escaped, and nothing of another sandbox."""

import json

import pytest

from domains.models import DomainModel
from sandbox.runs.engine import execute_session
from sandbox.runs.models import Run, Turn
from sandbox.runs.services import run_start
from scenarios.services import pack_import
from tests.support.aio import run_sync
from tests.support.openai_server import OpenAIStub

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.mark.django_db(transaction=True)
def test_transcript_page_shows_model_output_as_text(signed_in, alice, sandbox_a, pack):
    model = DomainModel.objects.create(sandbox=sandbox_a, name="hostile", provider="scripted",
                                       script={"default": HOSTILE})
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[model])
    for session in run.sessions.all():
        run_sync(execute_session(session.pk))
    page = signed_in(alice).get(f"/sandboxes/{sandbox_a.pk}/runs/{run.pk}/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.django_db(transaction=True)
def test_an_endpoint_s_error_text_is_shown_as_text(signed_in, alice, sandbox_a):
    """An OpenAI-compatible endpoint's error message is untrusted too: it is stored as the
    failed turn's error and escaped on the transcript page."""
    stub = OpenAIStub().start()
    try:
        model = DomainModel.objects.create(sandbox=sandbox_a, name="failing", provider="openai",
                                           base_url=stub.base_url, model_name="m",
                                           timeout_seconds=10)
        text = ("pack: {id: hostile, title: H, vertical: medical, language: en}\n"
                "scenarios:\n  - id: hostile\n    title: H\n    turns:\n"
                f"      - user: {json.dumps(HOSTILE + ' [[error-event]]')}\n"
                "        expect: answer\n")
        record, _ = pack_import(sandbox=sandbox_a, text=text, filename="h.yaml", actor=alice)
        run = run_start(sandbox=sandbox_a, started_by=alice, models=[model],
                        scenarios=list(record.scenarios.all()))
        for session in run.sessions.all():
            run_sync(execute_session(session.pk))
    finally:
        stub.stop()
    turn = Turn.objects.get(run=run)
    assert turn.status == "failed" and f"the model crashed on: {HOSTILE}" in turn.error
    page = signed_in(alice).get(f"/sandboxes/{sandbox_a.pk}/runs/{run.pk}/").content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert ("the model crashed on: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
            "&lt;img src=x onerror=alert(1)&gt;") in page


def test_one_click_demo_run_starts_every_scenario_with_every_model(signed_in, alice, sandbox_a,
                                                                   pack, careful, reckless):
    response = signed_in(alice).post(f"/sandboxes/{sandbox_a.pk}/runs/demo/")
    run = Run.objects.get(sandbox=sandbox_a)
    assert response.status_code == 302 and response["Location"].endswith(f"/runs/{run.pk}/")
    variants = set(run.sessions.values_list("variant_id", flat=True))
    assert {"chest-pain", "record-request", "record-request~direct_injection"} <= variants
    assert set(run.sessions.values_list("model__name", flat=True)) == {"careful", "reckless"}


def test_start_form_reports_a_suspended_sandbox(signed_in, alice, sandbox_a, pack, careful):
    from sandbox.core.models import Sandbox

    Sandbox.objects.filter(pk=sandbox_a.pk).update(status="suspended")
    client = signed_in(alice)
    response = client.post(f"/sandboxes/{sandbox_a.pk}/runs/start/",
                           {"models": [careful.pk]}, follow=True)
    assert "suspended by a regulator" in response.content.decode()
    assert not Run.objects.exists()


@pytest.mark.parametrize("path", ["runs/", "runs/{run}/", "scenarios/", "scenarios/{scenario}/"])
def test_pages_of_another_sandbox_are_not_found(signed_in, charlie, alice, sandbox_a, pack,
                                                careful, path):
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    url = f"/sandboxes/{sandbox_a.pk}/" + path.format(run=run.pk,
                                                      scenario=sandbox_a.scenarios.first().pk)
    response = signed_in(charlie).get(url)
    assert response.status_code == 404
    assert b"chest" not in response.content


@pytest.mark.parametrize("path", ["runs/", "scenarios/"])
def test_experts_cannot_open_run_or_scenario_pages(signed_in, bob, sandbox_a, pack, path):
    assert signed_in(bob).get(f"/sandboxes/{sandbox_a.pk}/{path}").status_code == 403


def test_regulators_read_runs_but_cannot_start_one(signed_in, rita, sandbox_a, pack, careful):
    client = signed_in(rita)
    page = client.get(f"/sandboxes/{sandbox_a.pk}/runs/").content.decode()
    assert 'id="start-run"' not in page
    assert client.post(f"/sandboxes/{sandbox_a.pk}/runs/demo/").status_code == 403


def test_import_form_lists_every_error_with_its_line(signed_in, alice, sandbox_a):
    bad = "pack: {id: x, title: X, vertical: medical, language: en}\nscenarios:\n" \
          "  - id: a\n    title: A\n    turns:\n      - user: hi\n        expect: maybe\n"
    page = signed_in(alice).post(f"/sandboxes/{sandbox_a.pk}/scenarios/",
                                 {"yaml": bad}).content.decode()
    assert 'id="import-errors"' in page
    assert "pasted.yaml:7" in page and "scenarios[0].turns[0].expect" in page
    assert not sandbox_a.packs.exists()


@pytest.mark.django_db(transaction=True)
def test_operators_see_regulators_notes_on_the_transcript(signed_in, alice, rita, sandbox_a, pack,
                                                          careful):
    from sandbox.live.models import Annotation

    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    for session in run.sessions.all():
        run_sync(execute_session(session.pk))
    turn = run.turns.order_by("id").first()
    Annotation.objects.create(sandbox=sandbox_a, run=run, turn=turn, author=rita,
                              note="<b>Escalation too slow</b>", severity="high")
    page = signed_in(alice).get(f"/sandboxes/{sandbox_a.pk}/runs/{run.pk}/").content.decode()
    assert "&lt;b&gt;Escalation too slow&lt;/b&gt;" in page
    assert "rita" in page and "data-annotation=" in page
