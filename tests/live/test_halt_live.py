"""A regulator's halt and suspension, seen by live viewers of a streaming run."""

import json
import time

import pytest

from sandbox.runs.models import Run, Turn
from tests.live.conftest import api_post, make_run, open_ws, receive_until, start_in_server

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]


def timed_until(ws, stop, timeout=15.0):
    """Events with their arrival time (monotonic), until ``stop(event)``."""
    got = []
    deadline = time.monotonic() + timeout
    while True:
        for event in json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic()))):
            got.append((time.monotonic(), event))
            if stop(event):
                return got


def test_a_halted_run_stops_streaming_within_a_second_and_keeps_the_partial_turn(
        asgi_server, world):
    from sandbox.live.synthetic import synthetic_stream

    run = world.run_a
    rita, alice = world.people["regulator"], world.people["operator"]
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/runs/{run.pk}/", user=rita) as one, \
            open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/", user=alice) as everything:
        stream = start_in_server(asgi_server, synthetic_stream(
            session_id=run.sessions.get().pk, tokens=400, rate=20))
        before, _ = receive_until(one, lambda e: e["type"] == "token" and e["seq"] >= 6)
        response = api_post(asgi_server, rita,
                            f"/api/v1/sandboxes/{world.a.pk}/runs/{run.pk}/halt/",
                            {"reason": "dangerous dosage"})
        halt_at = time.monotonic()  # the halt is committed
        assert response.status_code == 200, response.text
        after = timed_until(one, lambda e: e["type"] == "turn.completed")
        seen_by_all, _ = receive_until(everything, lambda e: e["type"] == "run.halted")
    assert stream.result(10)["status"] == "halted"
    events = before + [e for _t, e in after]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    halted = [e for e in events if e["type"] == "run.halted"]
    assert len(halted) == 1 and halted[0]["reason"] == "dangerous dosage"
    assert halted[0]["by"] == "rita"
    last_token = max((t for t, e in after if e["type"] == "token"), default=halt_at)
    assert last_token - halt_at < 1.0, f"tokens kept coming {last_token - halt_at:.2f} s later"
    assert seen_by_all[-1]["run"] == run.pk
    turn = Turn.objects.get(run=run)
    streamed = "".join(e["text"] for e in events if e["type"] == "token")
    assert turn.status == "halted"
    assert turn.assistant_message == streamed
    assert 0 < len(streamed.split()) < 400
    completed = [e for e in events if e["type"] == "turn.completed"][0]
    assert completed["status"] == "halted"
    assert Run.objects.get(pk=run.pk).status == "halted"


def test_a_suspension_halts_every_streaming_run_for_every_viewer(asgi_server, world):
    from sandbox.live.synthetic import synthetic_stream

    runs = [world.run_a, make_run(world.a)]
    rita = world.people["regulator"]
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/", user=world.people["operator"]) as ws:
        streams = [start_in_server(asgi_server, synthetic_stream(
            session_id=run.sessions.get().pk, tokens=400, rate=20)) for run in runs]
        receive_until(ws, lambda e: e["type"] == "token")
        response = api_post(asgi_server, rita, f"/api/v1/sandboxes/{world.a.pk}/suspend/",
                            {"reason": "significant risk to patients"})
        assert response.status_code == 200, response.text
        pending = {run.pk for run in runs}
        events, _ = receive_until(ws, lambda e: e["type"] == "run.halted" and (
            pending.discard(e["run"]) or not pending))
    assert [s.result(10)["status"] for s in streams] == ["halted", "halted"]
    assert {e["run"] for e in events if e["type"] == "run.halted"} == {r.pk for r in runs}
    assert all(e["reason"].endswith("significant risk to patients")
               for e in events if e["type"] == "run.halted")
    refused = api_post(asgi_server, world.people["operator"],
                       f"/api/v1/sandboxes/{world.a.pk}/runs/",
                       {"models": [world.a.models.get().pk]})
    assert refused.status_code == 403
    assert "suspended" in refused.text


def test_an_annotation_reaches_operators_watching_live(asgi_server, world):
    from sandbox.live.synthetic import synthetic_stream
    from tests.live.conftest import in_server

    run = world.run_a
    in_server(asgi_server, synthetic_stream(session_id=run.sessions.get().pk, tokens=5,
                                            rate=500))
    turn = Turn.objects.get(run=run)
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/runs/{run.pk}/",
                 user=world.people["operator"]) as ws:
        receive_until(ws, lambda e: e["type"] == "run.completed")
        response = api_post(asgi_server, world.people["regulator"],
                            f"/api/v1/sandboxes/{world.a.pk}/annotations/",
                            {"turn": turn.pk, "note": "Needs escalation advice",
                             "severity": "high"})
        assert response.status_code == 201, response.text
        events, _ = receive_until(ws, lambda e: e["type"] == "annotation")
    note = events[-1]
    assert (note["turn_id"], note["turn"], note["session"]) == (turn.pk, 0, turn.session_id)
    assert (note["note"], note["severity"], note["author"]) == ("Needs escalation advice",
                                                                "high", "rita")


def test_halting_a_real_streaming_run_stops_the_model_within_a_second(asgi_server, world):
    """The runs engine streams a scripted model word by word; the halt cuts it short."""
    from sandbox.runs.engine import execute_session
    from tests.live.engine_support import drop_queued_jobs, scripted_model, start_real_run

    rita = world.people["regulator"]
    long_reply = " ".join(f"word{i}" for i in range(300))
    model = scripted_model(world.a, name="verbose", reply=long_reply, token_delay=0.05)
    run, sessions = start_real_run(world.a, world.people["operator"], model)
    drop_queued_jobs(run)
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/runs/{run.pk}/", user=rita) as ws:
        playing = start_in_server(asgi_server, execute_session(sessions[0]))
        before, _ = receive_until(ws, lambda e: e["type"] == "token" and "word20" in e["text"])
        response = api_post(asgi_server, rita,
                            f"/api/v1/sandboxes/{world.a.pk}/runs/{run.pk}/halt/",
                            {"reason": "off-label dosage"})
        halt_at = time.monotonic()  # the halt is committed
        assert response.status_code == 200, response.text
        after = timed_until(ws, lambda e: e["type"] == "turn.completed")
        playing.result(10)
    events = before + [e for _t, e in after]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert any(e["type"] == "run.halted" for e in events)
    last_token = max((t for t, e in after if e["type"] == "token"), default=halt_at)
    assert last_token - halt_at < 1.0, f"the model kept streaming {last_token - halt_at:.2f} s"
    turn = Turn.objects.get(run=run)
    streamed = "".join(e["text"] for e in events if e["type"] == "token")
    assert turn.status == "halted"
    assert turn.assistant_message == streamed
    assert "word20" in streamed and "word299" not in streamed
    assert Run.objects.get(pk=run.pk).status == "halted"
