"""Opening a session's job (sandbox/runs/engine.py, ``_open_session``): the start and the load
in one round trip, nothing started for a finished session or run."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sandbox.runs import engine
from sandbox.runs.models import Run, Session
from sandbox.runs.services import run_start

pytestmark = pytest.mark.django_db(transaction=True)

open_session = engine._open_session.func.__wrapped__  # the unit of work, run here


def test_a_first_start_is_one_round_trip_and_starts_the_run_once(sandbox_a, alice, pack,
                                                                  careful, reckless):
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful, reckless])
    first, second = Session.objects.filter(run=run).order_by("pk")[:2]
    with CaptureQueriesContext(connection) as captured:
        opened = open_session(first.pk)
    assert len(captured.captured_queries) == 1, captured.captured_queries
    assert opened.run_started and opened.history == [] and opened.index == 0
    # Loaded as it is after the start.
    assert opened.session.status == "running" and opened.session.attempts == 1
    assert opened.session.run.status == "running" and opened.session.run.started_at
    stored = Run.objects.get(pk=run.pk)
    assert stored.status == "running" and stored.started_at == opened.session.run.started_at
    assert not open_session(second.pk).run_started  # the run was started already


def test_a_resumed_session_finds_its_saved_turns(sandbox_a, alice, pack, careful):
    from django.utils import timezone

    from sandbox.runs.models import Turn

    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    session = Session.objects.filter(run=run, spec__turns__1__isnull=False).first()
    open_session(session.pk)
    Turn.objects.create(session=session, index=0, run=run, sandbox=sandbox_a,
                        turn_key=session.spec["turns"][0]["id"], user_message="q",
                        assistant_message="a", status="completed",
                        started_at=timezone.now(), completed_at=timezone.now())
    opened = open_session(session.pk)  # the job again, after a crash
    assert opened.session.attempts == 2 and opened.index == 1
    assert opened.history == [{"role": "user", "content": "q"},
                              {"role": "assistant", "content": "a"}]


@pytest.mark.parametrize("finished", ["session", "run"])
def test_nothing_starts_when_the_session_or_its_run_has_finished(sandbox_a, alice, pack,
                                                                 careful, finished):
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    session = Session.objects.filter(run=run).first()
    if finished == "session":
        Session.objects.filter(pk=session.pk).update(status="completed")
    else:
        Run.objects.filter(pk=run.pk).update(status="halted")
    assert open_session(session.pk) is None
    stored = Session.objects.get(pk=session.pk)
    assert stored.attempts == 0 and stored.started_at is None
    assert Run.objects.get(pk=run.pk).status == ("queued" if finished == "session" else "halted")


def test_a_session_that_is_gone_opens_nothing(db):
    assert open_session(10**9) is None
