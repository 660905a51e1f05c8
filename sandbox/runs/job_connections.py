"""Database connections of procrastinate's workers, set up for fewer waits.

**Django connections around jobs: procrastinate's cleanup, skipped where it only
adds a wait.**

procrastinate's Django integration wraps every async task in a middleware that
runs ``close_old_connections`` in Django's one thread-sensitive thread before
and after the task: it looks after the connection that the async ORM
(``aget``, ...) opens in that thread. A session's job
(``runs.run_session``) never uses that thread: all its database work runs in
``sandbox.dbthreads``' units of work, which take and hand back their own
connections. For it the hop is only a wait, on the critical path of every
session's start: 6 ms at the median, up to 26 ms, while twenty sessions start
in ``tests/bench/bench_runs.py``, since each hop waits for the one shared
thread and then for the GIL. Other async tasks (the live synthetic streams,
say, which use the async ORM) keep the cleanup.

**The workers' own pool in autocommit mode.** procrastinate's worker
connector opens its pool's connections in psycopg's default transaction mode,
so fetching a job took four round trips through the worker's event loop: the
pool's check, ``BEGIN``, the fetch (one statement, a function of
procrastinate's) and ``COMMIT``. Each of procrastinate's worker queries is one
statement, atomic on its own; in autocommit mode a fetch is the check and the
fetch. While twenty runs start together in ``tests/bench/bench_runs.py``,
the fetches fell behind the starts by 50-160 ms.

Both are installed by ``PROCRASTINATE_ON_APP_READY`` (settings), for the
in-process workers of ``manage.py serve`` and for separate ``manage.py
procrastinate worker`` processes alike.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from procrastinate.contrib.django import db_cleanup

# Async tasks whose database work runs in sandbox.dbthreads' units of work only.
OWN_CONNECTIONS = frozenset({"runs.run_session"})


async def close_db_connections_async(call_next, context, worker):
    """procrastinate's async cleanup middleware, except for the tasks of
    :data:`OWN_CONNECTIONS`."""
    if context.job.task_name in OWN_CONNECTIONS:
        return await call_next()
    return await db_cleanup.close_db_connections_async(call_next, context, worker)


def worker_connector():
    """The connector procrastinate's Django integration builds for workers (a psycopg
    pool on the Django database), with the pool's connections in autocommit mode."""
    from procrastinate import psycopg_connector
    from procrastinate.contrib.django import settings as procrastinate_settings
    from procrastinate.contrib.django import utils

    params = utils.connector_params(procrastinate_settings.settings.DATABASE_ALIAS)
    return psycopg_connector.PsycopgConnector(kwargs=params, configure=_autocommit)


async def _autocommit(connection) -> None:
    """The pool's ``configure`` callback, run once per new connection."""
    await connection.set_autocommit(True)


def on_app_ready(app) -> None:
    """Put :func:`close_db_connections_async` in the place of procrastinate's own, and
    :func:`worker_connector` in the place of its worker connector."""
    middleware = list(app.worker_defaults.get("task_middleware") or [])
    if db_cleanup.close_db_connections_async not in middleware:
        raise ImproperlyConfigured(
            "procrastinate's async Django cleanup middleware was not found among the "
            "worker's task middleware; sandbox.runs.job_connections needs updating")
    app.worker_defaults["task_middleware"] = [
        close_db_connections_async if mw is db_cleanup.close_db_connections_async else mw
        for mw in middleware]
    app.connector.get_worker_connector = worker_connector
