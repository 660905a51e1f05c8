"""Fewer round trips and less ORM compiling on the hot paths of runs.

A round trip costs a fraction of a millisecond on an idle server, but a few
milliseconds in a process whose other threads keep the GIL busy (the embedded
worker's streaming sessions): the thread waits for the GIL again after every
reply. ``tests/bench/bench_runs.py`` measured that wait as most of the time
``run_start`` took while earlier runs streamed.

:func:`insert_together` compiles model instances with Django's own insert
compiler (the statement ``bulk_create`` sends: fields' ``pre_save`` and
adapters included), binds each statement client-side (as Django does for
psycopg by default), and sends them as one string. Instances without a primary
key get theirs back (``RETURNING``), as with ``bulk_create``. No signals are
sent, as with ``bulk_create``. Use it inside a transaction: the statements
commit or roll back together with the rest of the change.

:func:`columns` and :func:`from_row` serve a query written once for a hot
path (several statements in one round trip, or a join the ORM takes
milliseconds of CPU to compile on every call): the model's columns in the
order :func:`from_row` expects, and the instance built from them as the ORM
builds it (the fields' converters, then ``from_db``).

:func:`carried_transaction` lets a transaction's ``BEGIN`` travel with its
first statements and its ``COMMIT`` with its last: psycopg otherwise sends
each as a round trip of its own, two more waits for the GIL per transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import AutoField, Model
from django.db.models.sql import InsertQuery


def execute_together(statements: Sequence[str]) -> list[list[tuple] | None]:
    """Send bound statements in one round trip; return each one's rows (None when it
    returns none). An error in any of them raises, as it would on its own; statements
    before an explicit ``COMMIT`` in the string stay committed."""
    connection.ensure_connection()
    results: list[list[tuple] | None] = []
    with connection.cursor() as cursor:
        cursor.execute(";\n".join(statements))
        for index in range(len(statements)):
            if index and not cursor.nextset():
                raise RuntimeError(f"execute_together: {len(statements)} statements sent, "
                                   f"{index} results came back")
            results.append(cursor.fetchall() if cursor.description is not None else None)
    return results


def insert_together(*groups: list[Model], before: Sequence[str] = (),
                    then: Sequence[str] = ()) -> list[list[tuple] | None]:
    """Insert each group (instances of one model) in the order given, in one round trip.

    ``before`` and ``then``: statements, already bound, sent before and after
    the inserts in the same round trip (a carried ``BEGIN``, a counter's
    update, a carried ``COMMIT``). Returns the rows of the ``then`` statements
    (:func:`execute_together`).
    """
    groups = [list(group) for group in groups if group]
    inserts = [_insert_sql(group) for group in groups]
    if not inserts and not before and not then:
        return []
    results = execute_together([*before, *(sql for sql, _returning in inserts), *then])
    for group, (_sql, returning), rows in zip(groups, inserts, results[len(before):],
                                              strict=False):
        if returning:
            fields = group[0]._meta.db_returning_fields
            for obj, row in zip(group, rows, strict=True):
                for value, field in zip(row, fields, strict=True):
                    setattr(obj, field.attname, value)
        for obj in group:
            obj._state.adding = False
            obj._state.db = connection.alias
    return results[len(before) + len(inserts):]


def _insert_sql(objs: list[Model]) -> tuple[str, bool]:
    """One INSERT of ``objs`` (one model; all with a primary key or all without), bound;
    and whether it returns the generated keys."""
    opts = objs[0]._meta
    returning = objs[0].pk is None
    if any((obj.pk is None) != returning for obj in objs):
        raise ValueError("insert_together: give all instances of a group a primary key, "
                         "or none of them")
    fields = [f for f in opts.concrete_fields
              if not f.generated and not (returning and isinstance(f, AutoField))]
    query = InsertQuery(opts.model)
    query.insert_values(fields, objs)
    # The connection itself, not django.db.connection: the compiler looks it up a hundred
    # times per statement, and each lookup through the proxy costs a context-local read.
    wrapper = connections[DEFAULT_DB_ALIAS]
    compiler = query.get_compiler(connection=wrapper)
    compiler.returning_fields = opts.db_returning_fields if returning else None
    (sql, params), = compiler.as_sql()
    return wrapper.ops.compose_sql(sql, params), returning


def columns(model: type[Model], alias: str | None = None) -> str:
    """The model's concrete columns, qualified by its table (or by ``alias``)."""
    qn = connection.ops.quote_name
    table = alias or qn(model._meta.db_table)
    return ", ".join(f"{table}.{qn(f.column)}" for f in model._meta.concrete_fields)


def from_row(model: type[Model], values) -> Model:
    """An instance from the values of :func:`columns`, as the ORM builds one."""
    attnames, converters = _converters(model)
    values = list(values)
    wrapper = connections[DEFAULT_DB_ALIAS]
    for i, field_converters in converters:
        for convert in field_converters:
            values[i] = convert(values[i], None, wrapper)
    return model.from_db(wrapper.alias, attnames, values)


@functools.cache
def _converters(model: type[Model]) -> tuple[list[str], list[tuple[int, list]]]:
    fields = model._meta.concrete_fields
    return ([f.attname for f in fields],
            [(i, c) for i, f in enumerate(fields) if (c := f.get_db_converters(connection))])


@dataclass(frozen=True)
class Carried:
    """The transaction control statements a :func:`carried_transaction` block sends itself:
    ``begin`` before its first round trip's statements, ``commit`` after its last's."""

    begin: tuple[str, ...]
    commit: tuple[str, ...]


@contextmanager
def carried_transaction() -> Iterator[Carried]:
    """A transaction whose ``BEGIN`` and ``COMMIT`` ride with the block's own statements.

    The block puts ``carried.begin`` in front of the statements of its first
    round trip and ``carried.commit`` after those of its last (the connection
    stays in autocommit mode, so psycopg sends neither of its own). A block
    that raises is rolled back (a failed statement leaves the transaction
    aborted; the rollback ends it) and a block that ends without having
    committed is rolled back with an error; when the rollback cannot be sent,
    the connection is closed rather than lent again with a transaction open.

    Inside an ``atomic`` block (a request's, a test's) the block runs in a
    savepoint, as a nested ``atomic`` would, and both tuples are empty. Do not
    use ``transaction.on_commit`` inside: outside ``atomic`` Django runs such a
    callback at once.
    """
    if connection.in_atomic_block or not connection.get_autocommit():
        with transaction.atomic():
            yield Carried(begin=(), commit=())
        return
    connection.ensure_connection()
    try:
        yield Carried(begin=("BEGIN",), commit=("COMMIT",))
    except BaseException:
        _roll_back_open_transaction()
        raise
    if _in_transaction():
        _roll_back_open_transaction()
        raise RuntimeError("carried_transaction: the block did not send its COMMIT; "
                           "the transaction was rolled back")


def _in_transaction() -> bool:
    from psycopg.pq import TransactionStatus

    raw = connection.connection
    return raw is not None and raw.info.transaction_status != TransactionStatus.IDLE


def _roll_back_open_transaction() -> None:
    try:
        if _in_transaction():
            connection.connection.rollback()
    except Exception:
        connection.close()  # never lend a connection with a transaction left open
