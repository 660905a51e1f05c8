"""Several inserts in one round trip (sandbox/sqlbatch.py), compiled by Django's own insert
compiler and bound client-side."""

import pytest
from django.utils import timezone

from sandbox.audit.models import AuditEvent
from sandbox.core.models import Sandbox
from sandbox.runs.models import Run
from sandbox.sqlbatch import insert_together


def test_groups_go_in_one_round_trip_and_get_their_keys(sandbox_a, alice,
                                                       django_assert_num_queries):
    with django_assert_num_queries(1):
        run = Run(sandbox=sandbox_a, started_by=alice, options={"note": "x"})
        events = [AuditEvent(sandbox=sandbox_a, seq=900 + n, actor_name="t", action="test",
                             created_at=timezone.now(), payload={"n": n}, prev_hash="p",
                             hash=f"h{n}") for n in range(3)]
        insert_together([run], events)
    assert run.pk is not None and all(e.pk is not None for e in events)
    assert not run._state.adding and run._state.db == "default"
    assert Run.objects.get(pk=run.pk).options == {"note": "x"}
    assert list(AuditEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("seq")
                .values_list("payload", flat=True)) == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_a_given_key_is_kept(sandbox_a, alice):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('runs_run', 'id'))")
        run_id = cursor.fetchone()[0]
    run = Run(pk=run_id, sandbox=sandbox_a, started_by=alice)
    insert_together([run])
    assert Run.objects.get(pk=run_id).sandbox_id == sandbox_a.pk
    assert run.created_at is not None  # the field's pre_save ran (auto_now_add)


def test_values_are_data_whatever_they_contain(sandbox_a):
    """Bound client-side, then sent as one string: quotes, placeholders and statement
    separators in a value stay in the value."""
    hostile = "'); DROP TABLE runs_run; -- %s %(x)s \\ ;"
    event = AuditEvent(sandbox=sandbox_a, seq=1000, actor_name=hostile, action="test",
                       created_at=timezone.now(), payload={"text": hostile}, prev_hash="p",
                       hash="h")
    insert_together([event])
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor_name == hostile and stored.payload == {"text": hostile}
    # Nothing in the value ran: the table is there, as it was.
    assert not Run.objects.filter(sandbox=sandbox_a).exists()
    assert Sandbox.objects.filter(pk=sandbox_a.pk).exists()


def test_a_group_mixing_given_and_missing_keys_is_refused(sandbox_a, alice):
    with pytest.raises(ValueError, match="all instances of a group"):
        insert_together([Run(pk=10**9, sandbox=sandbox_a), Run(sandbox=sandbox_a)])
    assert not Run.objects.filter(pk=10**9).exists()


def _in_transaction() -> bool:
    from django.db import connection
    from psycopg.pq import TransactionStatus

    return connection.connection.info.transaction_status != TransactionStatus.IDLE


def _rename_sql(sandbox, carried, *, commit=True) -> str:
    """A change of the sandbox's name, inside the carried BEGIN (and COMMIT)."""
    return ";\n".join([*carried.begin,
                       f"UPDATE core_sandbox SET name = 'renamed' WHERE id = {int(sandbox.pk)}",
                       *(carried.commit if commit else ())])


def _renamed(sandbox) -> bool:
    return Sandbox.objects.get(pk=sandbox.pk).name == "renamed"


@pytest.mark.django_db(transaction=True)
def test_a_carried_transaction_sends_begin_and_commit_with_its_statements(
        sandbox_a, django_assert_num_queries):
    from django.db import connection

    from sandbox.sqlbatch import carried_transaction

    with django_assert_num_queries(1), carried_transaction() as carried:
        assert (carried.begin, carried.commit) == (("BEGIN",), ("COMMIT",))
        with connection.cursor() as cursor:
            cursor.execute(_rename_sql(sandbox_a, carried))
    assert not _in_transaction()
    assert _renamed(sandbox_a)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", [ValueError("refused"), KeyboardInterrupt()],
                         ids=["an exception", "an interrupt"])
def test_a_carried_transaction_that_raises_is_rolled_back(sandbox_a, error):
    from django.db import connection

    from sandbox.sqlbatch import carried_transaction

    with pytest.raises(type(error)), carried_transaction() as carried:
        with connection.cursor() as cursor:
            cursor.execute(_rename_sql(sandbox_a, carried, commit=False))
        assert _in_transaction()
        raise error
    assert not _in_transaction()
    assert not _renamed(sandbox_a)


@pytest.mark.django_db(transaction=True)
def test_a_carried_transaction_that_never_commits_is_rolled_back_with_an_error(sandbox_a):
    from django.db import connection

    from sandbox.sqlbatch import carried_transaction

    with pytest.raises(RuntimeError, match="did not send its COMMIT"), \
            carried_transaction() as carried:
        with connection.cursor() as cursor:
            cursor.execute(_rename_sql(sandbox_a, carried, commit=False))
    assert not _in_transaction()
    assert not _renamed(sandbox_a)


def test_inside_atomic_a_carried_transaction_is_a_savepoint(sandbox_a):
    """In a caller's transaction nothing is carried; a failure undoes the block's work only."""
    from django.db import connection

    from sandbox.sqlbatch import carried_transaction

    kept = Run.objects.create(sandbox=sandbox_a)  # the caller's work, before the block
    with pytest.raises(ValueError), carried_transaction() as carried:
        assert (carried.begin, carried.commit) == ((), ())
        with connection.cursor() as cursor:
            cursor.execute(_rename_sql(sandbox_a, carried))
        raise ValueError("refused")
    assert not _renamed(sandbox_a)
    assert list(Run.objects.filter(sandbox=sandbox_a).values_list("pk", flat=True)) == [kept.pk]
