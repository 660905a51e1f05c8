"""Starting a run: the run and its sessions as the models define them, one queued job per
session, the concurrent-run quota under racing starts."""

import threading
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction

from sandbox.audit.models import AuditEvent
from sandbox.audit.services import verify_chain
from sandbox.core.models import Sandbox
from sandbox.runs.control import run_stop
from sandbox.runs.models import Run, Session
from sandbox.runs.services import QuotaExceeded, queued_jobs, run_start
from scenarios.models import Scenario


def test_the_run_and_its_sessions_are_stored_as_the_models_define_them(
        sandbox_a, alice, pack, careful, reckless):
    scenarios = list(Scenario.objects.filter(sandbox=sandbox_a).order_by("scenario_id"))
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful, reckless],
                    scenarios=scenarios, with_variants=True)

    stored = Run.objects.get(pk=run.pk)
    assert stored.status == "queued" and stored.started_by == alice
    assert stored.sandbox_id == sandbox_a.pk and stored.with_variants
    assert stored.created_at == run.created_at and stored.created_at is not None
    assert stored.options == run.options and "skipped_variants" in stored.options
    assert (stored.turns_done, stored.tokens_used, stored.event_seq) == (0, 0, 0)
    assert stored.halt_reason == "" and stored.started_at is None
    # 2 scenarios, the injection variant of one, two models: six sessions.
    sessions = list(Session.objects.filter(run=run).order_by("pk"))
    assert len(sessions) == 6
    assert stored.turns_total == sum(len(s.spec["turns"]) for s in sessions)
    # The objects returned carry the stored keys, in the order they were built.
    returned = list(run.sessions.order_by("pk"))
    assert [s.pk for s in returned] == [s.pk for s in sessions]
    assert [(s.variant_id, s.model_id) for s in sessions] == [
        ("chest-pain", careful.pk), ("chest-pain", reckless.pk),
        ("record-request", careful.pk), ("record-request", reckless.pk),
        ("record-request~direct_injection", careful.pk),
        ("record-request~direct_injection", reckless.pk)]
    for session in sessions:
        assert session.status == "queued" and session.attempts == 0
        assert session.sandbox_id == sandbox_a.pk and session.error == ""
        assert session.variant_kind == ("direct_injection" if "~" in session.variant_id
                                        else "")
    injected = next(s for s in sessions if s.variant_kind)
    assert injected.spec["variant"]["origin"] == "record-request"
    # Its audit event names it, and the chain still verifies.
    event = AuditEvent.objects.get(sandbox=sandbox_a, action="run.start")
    assert (event.target_type, event.target_id, event.actor) == ("runs.run", str(run.pk), alice)
    assert event.payload == {"models": [careful.pk, reckless.pk],
                             "scenarios": [s.scenario_id for s in scenarios],
                             "with_variants": True, "sessions": 6}
    assert verify_chain(sandbox_a.pk)[1] is None


def test_inside_a_transaction_a_start_takes_two_round_trips(sandbox_a, alice, pack, careful):
    """Lock and read; the run, its sessions, its audit event and its jobs (the test's
    savepoint aside: a caller's transaction gets one). The API starts runs while the
    embedded worker streams others, and every round trip there waits for the GIL again
    (sandbox/sqlbatch.py)."""
    from django.test.utils import CaptureQueriesContext

    scenarios = list(Scenario.objects.filter(sandbox=sandbox_a))
    with CaptureQueriesContext(connection) as captured:
        run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful],
                        scenarios=scenarios)
    sent = [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    assert len(sent) == 2, sent
    assert "FOR NO KEY UPDATE" in sent[0] and "pg_advisory_xact_lock" in sent[0]
    assert not sent[0].startswith("BEGIN") and "COMMIT" not in sent[1]
    assert [line.split()[2] for line in sent[1].splitlines() if line.startswith("INSERT")] == [
        '"runs_run"', '"runs_session"', '"audit_auditevent"']
    assert "procrastinate_defer_jobs" in sent[1]
    sessions = list(run.sessions.values_list("pk", flat=True))
    assert len(sessions) == 2 and queued_jobs(sessions).count() == 2


def _in_transaction() -> bool:
    from psycopg.pq import TransactionStatus

    return connection.connection.info.transaction_status != TransactionStatus.IDLE


@pytest.mark.django_db(transaction=True)
def test_on_its_own_a_start_is_two_round_trips_begin_and_commit_included(
        sandbox_a, alice, pack, careful):
    """No BEGIN or COMMIT of their own: they travel with the first and the last statements."""
    from django.test.utils import CaptureQueriesContext

    scenarios = list(Scenario.objects.filter(sandbox=sandbox_a))
    with CaptureQueriesContext(connection) as captured:
        run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful],
                        scenarios=scenarios)
    sent = [q["sql"] for q in captured.captured_queries]
    assert len(sent) == 2, sent
    assert sent[0].startswith("BEGIN;\nSELECT 1 FROM") and sent[1].endswith("COMMIT")
    assert not _in_transaction()
    # Committed: another connection sees the run, its sessions, its jobs and its event.
    seen = {}

    def look():
        try:
            seen["sessions"] = list(Session.objects.filter(run_id=run.pk).values_list(
                "pk", flat=True))
            seen["jobs"] = queued_jobs(seen["sessions"]).count()
            seen["event"] = AuditEvent.objects.filter(action="run.start",
                                                      target_id=str(run.pk)).count()
        finally:
            connection.close()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(timeout=30)
    assert len(seen["sessions"]) == 2 and seen["jobs"] == 2 and seen["event"] == 1
    assert sorted(seen["sessions"]) == sorted(run.sessions.values_list("pk", flat=True))
    assert verify_chain(sandbox_a.pk)[1] is None


@pytest.mark.django_db(transaction=True)
def test_a_start_refused_under_the_lock_rolls_back_and_leaves_the_connection_usable(
        sandbox_a, alice, pack, careful):
    Sandbox.objects.filter(pk=sandbox_a.pk).update(max_concurrent_runs=1)
    run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    runs, sessions = Run.objects.count(), Session.objects.count()
    with pytest.raises(QuotaExceeded, match="1 runs are already active"):
        run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    assert not _in_transaction()  # the lock taken in the first round trip is released
    assert (Run.objects.count(), Session.objects.count()) == (runs, sessions)
    assert AuditEvent.objects.filter(sandbox=sandbox_a, action="run.start").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_failure_in_the_last_round_trip_leaves_nothing_behind(sandbox_a, alice, pack,
                                                                careful, monkeypatch):
    """The jobs' statement fails after the run, its sessions and its event were inserted in
    the same round trip: none of them stays, the chain is whole, the next start works."""
    from django.db import DataError

    from sandbox.runs import services

    before = (Run.objects.count(), Session.objects.count(), AuditEvent.objects.count())
    monkeypatch.setattr(services, "defer_sessions_sql", lambda sessions: "SELECT 1 / 0")
    with pytest.raises(DataError, match="division by zero"):
        run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    assert not _in_transaction()
    assert (Run.objects.count(), Session.objects.count(), AuditEvent.objects.count()) == before
    monkeypatch.undo()
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    assert queued_jobs(run.sessions.values_list("pk", flat=True)).count() == 2
    assert verify_chain(sandbox_a.pk)[1] is None


def test_the_jobs_are_those_procrastinate_itself_defers(sandbox_a, alice, pack, careful):
    """The defer statement is procrastinate's, bound by the platform (its job manager's
    method that builds it is private API): the same rows as its own ``batch_defer_jobs``."""
    from procrastinate.contrib.django import app
    from procrastinate.contrib.django.models import ProcrastinateJob

    from sandbox.runs.services import session_lock
    from sandbox.runs.tasks import run_session

    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    ours = list(run.sessions.order_by("pk"))
    fields = ["queue_name", "task_name", "priority", "lock", "queueing_lock", "args",
              "status", "scheduled_at", "attempts"]

    def rows(session_ids):
        return sorted(ProcrastinateJob.objects.filter(
            queueing_lock__in=[session_lock(pk) for pk in session_ids]).values(*fields),
            key=lambda job: job["args"]["session_id"])

    expected = rows([s.pk for s in ours])
    ProcrastinateJob.objects.filter(queueing_lock__in=[session_lock(s.pk) for s in ours]
                                    ).delete()
    app.job_manager.batch_defer_jobs([
        run_session.configure(queueing_lock=session_lock(s.pk)).make_new_job(session_id=s.pk)
        for s in ours])
    assert rows([s.pk for s in ours]) == expected
    assert [(job["args"], job["queueing_lock"]) for job in expected] == [
        ({"session_id": s.pk}, f"session-{s.pk}") for s in ours]


def test_each_session_has_one_queued_job_found_by_its_lock(sandbox_a, alice, pack, careful):
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    sessions = list(run.sessions.values_list("pk", flat=True))
    jobs = list(queued_jobs(sessions))
    assert len(jobs) == len(sessions) == 2
    assert sorted(job.args["session_id"] for job in jobs) == sorted(sessions)
    assert {job.task_name for job in jobs} == {"runs.run_session"}


def test_cancelling_a_run_cancels_its_queued_jobs(sandbox_a, alice, pack, careful):
    from procrastinate.contrib.django.models import ProcrastinateJob

    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    other = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    job_ids = list(queued_jobs(run.sessions.values_list("pk", flat=True)).values_list(
        "id", flat=True))
    run_stop(run=run, status="cancelled", actor=alice)
    assert set(ProcrastinateJob.objects.filter(id__in=job_ids).values_list(
        "status", flat=True)) == {"cancelled"}
    assert queued_jobs(run.sessions.values_list("pk", flat=True)).count() == 0
    # The other run's jobs are untouched.
    assert queued_jobs(other.sessions.values_list("pk", flat=True)).count() == 2


def test_a_refused_start_leaves_nothing_behind(sandbox_a, alice, pack, careful):
    Sandbox.objects.filter(pk=sandbox_a.pk).update(max_concurrent_runs=1)
    run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    runs, sessions = Run.objects.count(), Session.objects.count()
    with pytest.raises(QuotaExceeded, match="1 runs are already active"):
        run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    assert (Run.objects.count(), Session.objects.count()) == (runs, sessions)
    assert AuditEvent.objects.filter(sandbox=sandbox_a, action="run.start").count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("held_open", [True, False], ids=["in a caller's transaction",
                                                          "on its own"])
def test_concurrent_starts_count_each_others_runs(sandbox_a, alice, pack, careful, held_open):
    """Starts racing for the last places of the concurrent-run quota: exactly the quota wins.

    In a caller's transaction each start holds it open for a moment after
    inserting, so the others wait on the sandbox's row lock and must count the
    run it commits; on its own a start commits in its last round trip.
    """
    Sandbox.objects.filter(pk=sandbox_a.pk).update(max_concurrent_runs=2)
    barrier = threading.Barrier(5)
    started, refused, errors = [], [], []

    def start():
        try:
            barrier.wait()
            if held_open:
                with transaction.atomic():
                    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
                    time.sleep(0.05)
            else:
                run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
            started.append(run.pk)
        except QuotaExceeded as exc:
            refused.append(str(exc))
        except Exception as exc:  # reported below, the test fails on it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(started) == 2 and len(refused) == 3
    assert all("2 runs are already active" in message for message in refused)
    assert Run.objects.filter(sandbox=sandbox_a).count() == 2
    # The winners' audit events are one line of the chain; the refused left none.
    assert sorted(int(pk) for pk in AuditEvent.objects.filter(
        sandbox=sandbox_a, action="run.start").values_list("target_id", flat=True)) == sorted(
        started)
    assert verify_chain(sandbox_a.pk)[1] is None


def test_a_suspended_sandbox_s_helper_model_is_not_asked_for_variants(sandbox_a, alice, pack,
                                                                       careful, monkeypatch):
    """Variants are made before the sandbox is locked; a suspended sandbox is refused before
    that, so its helper model is not called for a run that cannot start."""
    from sandbox.runs import services

    asked = []
    monkeypatch.setattr(services, "paraphraser_for",
                        lambda sandbox: asked.append(sandbox.pk) or (lambda text: text))
    Sandbox.objects.filter(pk=sandbox_a.pk).update(status="suspended")
    sandbox = Sandbox.objects.get(pk=sandbox_a.pk)
    runs = Run.objects.count()
    with pytest.raises(PermissionDenied, match="suspended by a regulator"):
        run_start(sandbox=sandbox, started_by=alice, models=[careful], with_variants=True)
    assert asked == [] and Run.objects.count() == runs
    # Suspended after the caller read it: refused under the lock, as before.
    Sandbox.objects.filter(pk=sandbox_a.pk).update(status="active")
    stale = Sandbox.objects.get(pk=sandbox_a.pk)
    Sandbox.objects.filter(pk=sandbox_a.pk).update(status="suspended")
    with pytest.raises(PermissionDenied, match="suspended by a regulator"):
        run_start(sandbox=stale, started_by=alice, models=[careful])
    assert Run.objects.count() == runs


def test_another_sandbox_s_scenario_is_refused_before_any_helper_model_is_asked(
        sandbox_a, sandbox_b, alice, pack, careful, monkeypatch):
    """A scenario of another sandbox (or a model of another sandbox) is refused before
    variants are made: its text must not reach this sandbox's helper model, and nothing is
    locked or created."""
    from django.core.exceptions import ValidationError
    from django.test.utils import CaptureQueriesContext

    from sandbox.runs import services
    from scenarios.services import pack_import
    from tests.support.scripted import PACK

    asked = []
    monkeypatch.setattr(services, "paraphraser_for",
                        lambda sandbox: asked.append(sandbox.pk) or (lambda text: text))
    record, _ = pack_import(sandbox=sandbox_b, text=PACK.replace("vertical: medical",
                                                                 f"vertical: {sandbox_b.vertical}"),
                            filename="b.yaml", actor=alice)
    theirs = list(record.scenarios.all())
    runs = Run.objects.count()
    with CaptureQueriesContext(connection) as captured, \
            pytest.raises(ValidationError, match="is not in this sandbox"):
        run_start(sandbox=sandbox_a, started_by=alice, models=[careful], scenarios=theirs,
                  with_variants=True)
    assert asked == [] and Run.objects.count() == runs
    assert not any("FOR NO KEY UPDATE" in q["sql"] for q in captured.captured_queries)
