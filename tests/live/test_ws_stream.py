"""Ordering, batching and resume of the live streams, against the stored transcript."""

import json
import time

import pytest
from channels.layers import get_channel_layer

from sandbox.live.models import RunEvent
from sandbox.live.publish import _store, run_group
from sandbox.live.synthetic import synthetic_stream
from sandbox.runs.models import Turn
from tests.live.conftest import in_server, make_run, open_ws, receive_until, start_in_server

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]


def run_path(world, run):
    return f"/ws/sandboxes/{world.a.pk}/runs/{run.pk}/"


def finished(run_id):
    return lambda e: e.get("run") == run_id and e["type"] in ("run.completed", "run.halted")


def stored(run):
    return [(e.seq, e.type) for e in RunEvent.objects.filter(run=run).order_by("seq")]


def tokens_by_turn(events):
    text = {}
    for e in events:
        if e["type"] == "token":
            key = (e["session"], e["turn"])
            text[key] = text.get(key, "") + e["text"]
    return text


def transcript(run):
    return {(t.session_id, t.index): t.assistant_message for t in Turn.objects.filter(run=run)}


def test_a_run_stream_numbers_every_event_by_one_and_matches_the_transcript(asgi_server, world):
    run = world.run_a
    session = run.sessions.get()
    with open_ws(asgi_server, run_path(world, run), user=world.people["regulator"]) as ws:
        future = start_in_server(asgi_server, synthetic_stream(
            session_id=session.pk, turns=2, tokens=30, rate=300))
        events, _messages = receive_until(ws, finished(run.pk))
    assert future.result(10)["status"] == "completed"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["run"] == run.pk for e in events)
    assert [(e["seq"], e["type"]) for e in events] == stored(run)
    assert [e["type"] for e in events][:2] == ["run.started", "turn.started"]
    assert tokens_by_turn(events) == transcript(run)
    assert len(transcript(run)) == 2


def test_the_sandbox_stream_batches_several_runs_into_one_message(asgi_server, world):
    runs = [make_run(world.a, user=world.people["operator"]) for _ in range(6)]
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/",
                 user=world.people["operator"]) as ws:
        futures = [start_in_server(asgi_server, synthetic_stream(
            session_id=run.sessions.get().pk, tokens=200, rate=100, start_at=time.time() + 0.3))
            for run in runs]
        done = set()
        events, messages, mixed = [], 0, 0
        deadline = time.monotonic() + 30
        while len(done) < len(runs) and time.monotonic() < deadline:
            batch = json.loads(ws.recv(timeout=10))
            messages += 1
            mixed += len({e["run"] for e in batch}) > 1
            for e in batch:
                events.append(e)
                if finished(e["run"])(e):
                    done.add(e["run"])
    for f in futures:
        f.result(10)
    for run in runs:
        mine = [e for e in events if e["run"] == run.pk]
        assert [e["seq"] for e in mine] == list(range(1, len(mine) + 1))
        assert [(e["seq"], e["type"]) for e in mine] == stored(run)
        assert tokens_by_turn(mine) == transcript(run)
    token_events = sum(e["type"] == "token" for e in events)
    assert mixed > 0, "no websocket message carried frames of several runs"
    assert messages < token_events / 2, (messages, token_events)
    assert world.run_b.pk not in {e["run"] for e in events}


def test_reconnecting_with_since_misses_nothing_and_repeats_nothing(asgi_server, world):
    run = world.run_a
    session = run.sessions.get()
    rita = world.people["regulator"]
    with open_ws(asgi_server, run_path(world, run), user=rita) as ws:
        future = start_in_server(asgi_server, synthetic_stream(
            session_id=session.pk, tokens=80, rate=80))
        first, _ = receive_until(ws, lambda e: e["type"] == "token" and e["seq"] >= 10)
    time.sleep(0.3)  # the stream goes on while nobody watches
    with open_ws(asgi_server, run_path(world, run), user=rita, since=first[-1]["seq"]) as ws:
        rest, _ = receive_until(ws, finished(run.pk))
    future.result(20)
    events = first + rest
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert [(e["seq"], e["type"]) for e in events] == stored(run)
    assert tokens_by_turn(events) == transcript(run)


def test_a_resume_message_replays_from_the_database(asgi_server, world):
    run = world.run_a
    in_server(asgi_server, synthetic_stream(session_id=run.sessions.get().pk, tokens=10,
                                            rate=500))
    total = len(stored(run))
    with open_ws(asgi_server, run_path(world, run), user=world.people["operator"]) as ws:
        replayed, _ = receive_until(ws, lambda e: e["seq"] == total)
        ws.send(json.dumps({"type": "resume", "since": 5}))
        again, _ = receive_until(ws, lambda e: e["seq"] == total)
        ws.send("not json")
        error = json.loads(ws.recv(timeout=5))
    assert [e["seq"] for e in replayed] == list(range(1, total + 1))
    assert [e["seq"] for e in again] == list(range(6, total + 1))
    assert error[0]["type"] == "error"


def test_the_sandbox_stream_resumes_each_run_from_its_own_position(asgi_server, world):
    runs = [make_run(world.a) for _ in range(2)]
    for run in runs:
        in_server(asgi_server, synthetic_stream(session_id=run.sessions.get().pk, tokens=5,
                                                rate=500))
    since = f"{runs[0].pk}:3,{runs[1].pk}:0,{world.run_b.pk}:0"
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/", user=world.people["regulator"],
                 since=since) as ws:
        totals = {run.pk: len(stored(run)) for run in runs}
        got = {}
        deadline = time.monotonic() + 10
        while any(got.get(r, 0) < totals[r] for r in totals) and time.monotonic() < deadline:
            for e in json.loads(ws.recv(timeout=5)):
                got[e["run"]] = e["seq"]
                assert e["run"] != world.run_b.pk, "another sandbox's run was replayed"
    assert got == totals


def test_an_event_that_went_missing_is_filled_from_the_database(asgi_server, world):
    """A later event arriving first is held; the missing ones come from the database."""
    run = world.run_a
    rita = world.people["regulator"]
    with open_ws(asgi_server, run_path(world, run), user=rita) as ws:
        time.sleep(0.2)
        texts = [_store(run.pk, world.a.pk, "run.progress", {"done": i, "total": 3})
                 for i in range(1, 4)]
        seq, text = texts[-1]

        async def send_only_the_last():
            await get_channel_layer().group_send(run_group(run.pk), {
                "type": "live.event", "group": run_group(run.pk), "run": run.pk, "seq": seq,
                "text": text})

        in_server(asgi_server, send_only_the_last())
        events, _ = receive_until(ws, lambda e: e["seq"] == 3, timeout=5)
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert [e["done"] for e in events] == [1, 2, 3]
