"""A played turn's save (sandbox/runs/engine.py, ``_save_turn``): one round trip, BEGIN and
COMMIT included, with its checks, counters and -- for the last turn -- the session's and the
run's close; two when it raises alerts; a retried save finds the turn already saved."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg.pq import TransactionStatus

from sandbox.runs import engine
from sandbox.runs.models import Alert, CheckResult, Run, Session, Turn
from sandbox.runs.services import run_start
from scenarios.checks.base import CheckResult as Found
from scenarios.models import Scenario

pytestmark = pytest.mark.django_db(transaction=True)


def _session(sandbox, user, model, scenario_id="chest-pain") -> Session:
    run = run_start(sandbox=sandbox, started_by=user, models=[model],
                    scenarios=[Scenario.objects.get(sandbox=sandbox, scenario_id=scenario_id)])
    session, _ = engine._start_and_load(Session.objects.get(run=run).pk)  # as a job opens it
    return session


def _played(session, index, *, checks=(), status="completed") -> engine.Played:
    turn = session.spec["turns"][index]
    return engine.Played(index=index, position=index, turn=turn, user=turn["user"],
                         answer=f"answer {index}", status=status, started_at=timezone.now(),
                         checks=list(checks))


def _idle() -> bool:
    return connection.connection.info.transaction_status == TransactionStatus.IDLE


def _insert_a_turn_elsewhere(session) -> None:
    """Another connection inserts a turn meanwhile (its own draw of the turn ids)."""
    def insert():
        try:
            Turn.objects.create(session=session, index=99, run_id=session.run_id,
                                sandbox_id=session.sandbox_id, user_message="other",
                                status="completed", started_at=timezone.now(),
                                completed_at=timezone.now())
        finally:
            connection.close()

    thread = threading.Thread(target=insert)
    thread.start()
    thread.join(timeout=30)


def test_a_turn_is_saved_with_its_checks_and_counters_in_one_round_trip(
        sandbox_a, alice, pack, careful):
    session = _session(sandbox_a, alice, careful)
    _insert_a_turn_elsewhere(session)
    found = [Found(check="expectation", passed=True, score=1.0, evidence={"x": "'; --"}),
             Found(check="pii", passed=True)]
    with CaptureQueriesContext(connection) as captured:
        saved = engine._save_turn(session, _played(session, 0, checks=found))
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 1 and sent[0].startswith("BEGIN") and sent[0].endswith("COMMIT"), sent
    assert _idle()
    stored = Turn.objects.get(session=session, index=0)
    assert saved.turn.pk == stored.pk and stored.assistant_message == "answer 0"
    checks = list(CheckResult.objects.filter(turn=stored).order_by("pk"))
    assert [(c.check_name, c.passed, c.evidence) for c in checks] == [
        ("expectation", True, {"x": "'; --"}), ("pii", True, {})]
    assert not CheckResult.objects.exclude(turn=stored).exists()
    run = Run.objects.get(pk=session.run_id)
    assert saved.progress == (run.turns_done, run.turns_total) == (1, 2)
    assert saved.alerts == [] and not saved.closed and saved.run is None
    assert Session.objects.get(pk=session.pk).status == "running"


def test_a_turn_with_an_alert_takes_two_round_trips_and_points_it_at_its_check(
        sandbox_a, alice, pack, careful):
    session = _session(sandbox_a, alice, careful)
    found = [Found(check="expectation", passed=True),
             Found(check="pii", passed=False, severity="high", alert=True,
                   evidence={"reason": "an ID number"})]
    with CaptureQueriesContext(connection) as captured:
        saved = engine._save_turn(session, _played(session, 0, checks=found))
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 2 and sent[0].startswith("BEGIN") and sent[1].endswith("COMMIT")
    [alert] = Alert.objects.all()
    assert alert.check_result.check_name == "pii" and alert.turn_id == saved.turn.pk
    assert (alert.run_id, alert.sandbox_id) == (session.run_id, session.sandbox_id)
    assert alert.message == "pii failed: an ID number" and alert.severity == "high"
    assert [a.pk for a in saved.alerts] == [alert.pk]
    assert saved.alerts[0].check_result.check_name == "pii"


def test_the_last_turn_s_save_closes_the_session_and_the_run_in_the_same_round_trip(
        sandbox_a, alice, pack, careful):
    session = _session(sandbox_a, alice, careful)
    engine._save_turn(session, _played(session, 0))
    before = timezone.now()
    with CaptureQueriesContext(connection) as captured:
        saved = engine._save_turn(session, _played(session, 1), close_as="completed",
                                  statuses=["completed"])
    assert len(captured.captured_queries) == 1
    assert saved.closed and saved.run is not None and saved.run.status == "completed"
    run = Run.objects.get(pk=session.run_id)
    assert (run.status, run.turns_done, run.turns_total) == ("completed", 2, 2)
    assert run.finished_at == saved.run.finished_at and run.finished_at >= before
    closed = Session.objects.get(pk=session.pk)
    assert closed.status == "completed" and closed.finished_at >= before


def test_a_conversation_ended_early_takes_its_unplayed_turns_out_of_the_run_s_total(
        sandbox_a, alice, pack, careful):
    """Branching ended the session after its first turn: the run's total counts what was
    played, so the run reads 1 of 1."""
    session = _session(sandbox_a, alice, careful)
    saved = engine._save_turn(session, _played(session, 0), close_as="completed", statuses=[])
    run = Run.objects.get(pk=session.run_id)
    assert (run.status, run.turns_done, run.turns_total) == ("completed", 1, 1)
    assert saved.run.turns_total == 1


def test_a_session_whose_turns_all_failed_closes_failed_and_so_does_its_run(
        sandbox_a, alice, pack, careful):
    session = _session(sandbox_a, alice, careful)
    engine._save_turn(session, _played(session, 0, status="failed"))
    saved = engine._save_turn(session, _played(session, 1, status="failed"),
                              close_as="completed", statuses=["failed"])
    assert saved.run.status == "failed"
    assert Session.objects.get(pk=session.pk).status == "failed"


def test_a_run_with_another_open_session_stays_running(sandbox_a, alice, pack, careful,
                                                        reckless):
    scenario = Scenario.objects.get(sandbox=sandbox_a, scenario_id="record-request")
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful, reckless],
                    scenarios=[scenario])
    first, second = (engine._start_and_load(pk)[0] for pk in
                     Session.objects.filter(run=run).order_by("pk").values_list("pk", flat=True))
    saved = engine._save_turn(first, _played(first, 0), close_as="completed", statuses=[])
    assert saved.closed and saved.run is None
    assert Run.objects.get(pk=run.pk).status == "running"
    saved = engine._save_turn(second, _played(second, 0), close_as="completed", statuses=[])
    assert saved.run is not None and Run.objects.get(pk=run.pk).status == "completed"


def test_a_retried_save_finds_the_turn_and_still_closes_the_session(sandbox_a, alice, pack,
                                                                    careful):
    """A job retried after a crash between the save and its end: the turn is there once, the
    failed attempt left nothing (no second set of checks), and the session still closes."""
    session = _session(sandbox_a, alice, careful)
    found = [Found(check="expectation", passed=True)]
    engine._save_turn(session, _played(session, 0, checks=found))
    first = engine._save_turn(session, _played(session, 1, checks=found))
    again = engine._save_turn(session, _played(session, 1, checks=found),
                              close_as="completed", statuses=["completed"])
    assert _idle()
    assert again.turn.pk == first.turn.pk and again.closed
    assert CheckResult.objects.filter(turn__session=session).count() == 2
    run = Run.objects.get(pk=session.run_id)
    assert run.turns_done == 2 and run.status == "completed" and again.run.pk == run.pk
