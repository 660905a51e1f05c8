"""Django connections around jobs: procrastinate's cleanup, skipped where it only adds a wait.

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

Installed by ``PROCRASTINATE_ON_APP_READY`` (settings), for the in-process
workers of ``manage.py serve`` and for separate ``manage.py procrastinate
worker`` processes alike.
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


def on_app_ready(app) -> None:
    """Put :func:`close_db_connections_async` in the place of procrastinate's own."""
    middleware = list(app.worker_defaults.get("task_middleware") or [])
    if db_cleanup.close_db_connections_async not in middleware:
        raise ImproperlyConfigured(
            "procrastinate's async Django cleanup middleware was not found among the "
            "worker's task middleware; sandbox.runs.job_connections needs updating")
    app.worker_defaults["task_middleware"] = [
        close_db_connections_async if mw is db_cleanup.close_db_connections_async else mw
        for mw in middleware]
