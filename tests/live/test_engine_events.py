"""What the engine tells live viewers when a model leaks personal data.

The reckless scripted model answers the ``record-request`` scenario with a national ID
number; the stored RunEvents (exactly what viewers receive, see ``RunEvent.as_message``)
must carry the alert with its evidence, the turn with its checks and text, the progress,
numbered 1..n in the order the engine queued them (``sandbox/runs/engine.py``: the frames
before ``turn.completed``, then the turn's alerts, then ``run.progress``, ``run.completed``
last).
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from sandbox.live.models import RunEvent
from sandbox.runs.engine import execute_session
from sandbox.runs.models import Alert, CheckResult, Session, Turn
from sandbox.runs.services import run_start
from scenarios.models import Scenario

pytestmark = pytest.mark.django_db(transaction=True)

LEAKED_ID = "11010519491231002X"
ANSWER = f"Her ID is {LEAKED_ID} and she has diabetes."


def start(sandbox, user, model):
    scenarios = list(Scenario.objects.filter(sandbox=sandbox, scenario_id="record-request"))
    return run_start(sandbox=sandbox, started_by=user, models=[model], scenarios=scenarios)


@pytest.fixture
async def played(sandbox_a, alice, pack, reckless):  # noqa: F811
    run = await sync_to_async(start)(sandbox_a, alice, reckless)
    ids = [pk async for pk in Session.objects.filter(run=run).values_list("pk", flat=True)]
    assert len(ids) == 1
    await asyncio.gather(*(execute_session(pk) for pk in ids))
    events = [e async for e in RunEvent.objects.filter(run=run).order_by("seq")]
    turn = await Turn.objects.aget(run=run)
    return run, ids[0], turn, events


def of_type(events, type_):
    return [e for e in events if e.type == type_]


async def test_the_alert_event_carries_severity_check_and_the_leaked_number(played):
    run, session_id, turn, events = played
    alerts = of_type(events, "alert")
    stored = [a async for a in Alert.objects.filter(run=run).select_related("check_result")]
    assert alerts and len(alerts) == len(stored)
    pii = [e for e in alerts if e.payload["check"] == "pii"]
    assert len(pii) == 1
    payload = pii[0].payload
    record = next(a for a in stored if a.check_result.check_name == "pii")
    assert payload["severity"] == record.severity
    assert payload["severity"] in ("high", "critical")
    assert LEAKED_ID in str(payload["evidence"])
    assert payload["evidence"] == record.check_result.evidence
    assert payload["alert"] == record.pk and payload["message"] == record.message
    # It points at the turn: its session and its position in the conversation.
    assert payload["session"] == session_id and payload["turn"] == turn.index == 0
    assert record.turn_id == turn.pk
    assert pii[0].sandbox_id == run.sandbox_id
    message = pii[0].as_message()
    assert message["type"] == "alert" and message["run"] == run.pk
    assert message["seq"] == pii[0].seq


async def test_turn_completed_carries_the_answer_and_every_check(played):
    run, session_id, turn, events = played
    [completed] = of_type(events, "turn.completed")
    payload = completed.payload
    assert payload["session"] == session_id and payload["turn"] == 0
    assert payload["turn_id"] == turn.pk and payload["status"] == "completed"
    assert payload["assistant_message"] == ANSWER == turn.assistant_message
    saved = {c.check_name: c.passed async for c in CheckResult.objects.filter(turn=turn)}
    sent = {c["check"]: c["passed"] for c in payload["checks"]}
    assert sent == saved
    assert sent["pii"] is False
    assert "expectation" in sent and sent["expectation"] is False  # it did not refuse
    pii = next(c for c in payload["checks"] if c["check"] == "pii")
    assert pii["alert"] is True and LEAKED_ID in str(pii["evidence"])


async def test_progress_counts_the_turns(played):
    run, _session_id, _turn, events = played
    progress = of_type(events, "run.progress")
    assert [e.payload for e in progress] == [{"done": 1, "total": 1}]
    [started] = of_type(events, "run.started")
    assert started.payload == {"total": 1}
    [completed] = of_type(events, "run.completed")
    assert completed.payload == {"status": "completed", "done": 1, "total": 1}


async def test_events_are_numbered_without_gaps_in_the_order_the_engine_queued_them(played):
    run, session_id, _turn, events = played
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    await run.arefresh_from_db()
    assert run.event_seq == len(events)
    types = [e.type for e in events]
    assert types[0] == "run.started" and types[1] == "turn.started"
    assert types[-1] == "run.completed"
    # The turn's frames, then the saved turn, then its alerts, then the progress.
    done = types.index("turn.completed")
    assert set(types[2:done]) == {"token"}
    assert "".join(e.payload["text"] for e in of_type(events, "token")) == ANSWER
    alerts = [i for i, t in enumerate(types) if t == "alert"]
    assert alerts == list(range(done + 1, done + 1 + len(alerts)))
    assert types[done + 1 + len(alerts):] == ["run.progress", "run.completed"]
