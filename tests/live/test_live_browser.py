"""The live views in a real Chromium: tokens appear as they arrive, and hostile model output
(script tags, event-handler attributes) is shown as text and runs nothing."""

import time

import pytest

from sandbox.live.publish import apublish
from sandbox.live.synthetic import synthetic_stream
from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD
from tests.live.conftest import in_server, start_in_server
from tests.live.engine_support import (
    HOSTILE_REPLY,
    drop_queued_jobs,
    scripted_model,
    start_real_run,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

HOSTILE_WORDS = ["<script>window.__pwned = 1</script> ",
                 '<img src=x onerror="window.__pwned = 2"> ',
                 '<b onmouseover="window.__pwned = 3">bold</b> ',
                 "</div><script>alert(1)</script> "]


def watch(page):
    """Record dialogs (alert()) and make sure the page has no __pwned marker to begin with."""
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def assert_inert(page, dialogs, container):
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert page.locator(f"{container} script, {container} img, {container} b").count() == 0


def test_the_live_view_streams_hostile_text_as_text(page, asgi_server, world):
    rita = world.people["regulator"]
    run = world.run_a
    dialogs = watch(page)
    sign_in(page, rita.username, PASSWORD)
    page.goto(f"/sandboxes/{world.a.pk}/live/runs/{run.pk}/")
    page.wait_for_selector("#ws-state[data-state=live]")
    stream = start_in_server(asgi_server, synthetic_stream(
        session_id=run.sessions.get().pk, tokens=40, rate=20, words=HOSTILE_WORDS))
    answer = page.locator("#transcript .assistant-message")
    answer.first.wait_for()
    deadline = time.monotonic() + 10
    while len(answer.first.text_content()) <= 40 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert not stream.done(), "the text should be visible while the model is still streaming"
    assert page.locator("#transcript .assistant-message.streaming").count() == 1
    stream.result(20)
    page.wait_for_selector("#run-status.completed")
    text = answer.first.text_content()
    assert "<script>window.__pwned = 1</script>" in text
    assert 'onerror="window.__pwned = 2"' in text
    assert_inert(page, dialogs, "#transcript")
    assert page.locator("#run-progress").get_attribute("max") == "1"


def test_the_dashboard_shows_progress_and_alerts_as_they_happen(page, asgi_server, world):
    alice = world.people["operator"]
    run = world.run_a
    sign_in(page, alice.username, PASSWORD)
    page.goto(f"/sandboxes/{world.a.pk}/live/")
    page.wait_for_selector("#ws-state[data-state=live]")
    dialogs = watch(page)
    session = run.sessions.get()
    in_server(asgi_server, synthetic_stream(session_id=session.pk, tokens=5, rate=200))
    in_server(asgi_server, apublish(run_id=run.pk, sandbox_id=world.a.pk, type="alert", payload={
        "session": session.pk, "turn": 0, "severity": "high", "check": "pii_leak",
        "message": '<img src=x onerror="window.__pwned = 4"> leaked an ID number'}))
    row = page.locator(f'tr.run-row[data-run="{run.pk}"]')
    page.wait_for_selector(f'tr.run-row[data-run="{run.pk}"] .run-status.completed')
    assert row.locator(".run-progress").get_attribute("value") == "1"
    assert row.locator(".run-count").text_content() == "1/1"
    assert page.locator("#suspend-form").count() == 0  # operators cannot suspend
    first = page.locator("#alert-feed li").first
    first.locator(".alert-check").wait_for()
    assert first.locator(".badge.sev-high").count() == 1
    assert first.locator(".alert-message").text_content().startswith('<img src=x onerror=')
    assert_inert(page, dialogs, "#alert-feed")


def test_a_real_run_with_a_hostile_model_is_inert_live_and_on_the_transcript_page(
        page, asgi_server, world):
    """The runs engine plays a scripted model whose answer is an XSS attempt."""
    from sandbox.runs.engine import execute_session

    rita = world.people["regulator"]
    model = scripted_model(world.a, name="hostile", reply=HOSTILE_REPLY, token_delay=0.02)
    run, sessions = start_real_run(world.a, world.people["operator"], model)
    drop_queued_jobs(run)
    dialogs = watch(page)
    sign_in(page, rita.username, PASSWORD)
    page.goto(f"/sandboxes/{world.a.pk}/live/runs/{run.pk}/")
    page.wait_for_selector("#ws-state[data-state=live]")
    in_server(asgi_server, execute_session(sessions[0]))
    page.wait_for_selector("#run-status.completed")
    answer = page.locator("#transcript .assistant-message").first.text_content()
    assert "<script>window.__pwned = 1</script>" in answer
    assert "11010519491231002X" in answer
    page.wait_for_selector("#transcript .turn.has-alert")
    assert page.locator("#alert-feed li").count() >= 1
    assert_inert(page, dialogs, "#transcript")
    assert_inert(page, dialogs, "#alert-feed")

    response = page.goto(f"/sandboxes/{world.a.pk}/runs/{run.pk}/")
    assert response.status == 200
    assert "<script>window.__pwned = 1</script>" in page.locator("main").inner_text()
    assert_inert(page, dialogs, "main")
