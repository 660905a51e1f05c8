"""Database work from async code, on threads of its own rather than Django's one shared thread.

Django's async ORM (``aget``, ``aupdate``, ...) and ``sync_to_async`` with its
default ``thread_sensitive=True`` run every call of a process in *one*
thread. Twenty sessions of concurrent runs, the live event writer and the stop
poller then wait in a single queue: a token frame behind another session's
turn save, a turn save behind a finished run's rating items (tens of
milliseconds). ``tests/bench/bench_runs.py`` measured that queue as most of
the platform's overhead on a turn.

:func:`db_work` runs a sync function in a small pool of threads kept for
database work on a session's critical path (opening it, saving a turn,
closing it); :func:`db_background` in another pool, for work nobody waits for
(indexing answers, a finished run's rating items), so that it never delays
the former; :func:`db_writer` in a thread of its own, for the live event
writer. Each call is a unit of work, like a request:

- it takes a connection when it first queries and hands it back when it
  returns (``close_old_connections``, the rule Django applies at the end of a
  request: with the psycopg pool the connection goes back to the pool; with
  ``CONN_MAX_AGE`` it is kept as configured). No idle thread holds a
  connection, so the pool is not drained and a test database can be dropped;
- a transaction begins and ends within the call, and nothing may rely on
  which thread runs it (as ``thread_sensitive`` code may).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.db import close_old_connections

# Threads for the runs engine's database work. Calls are short (a few ms); a few threads
# keep one call from holding up the others, while more would only contend for the GIL
# (the event loop's with them) and hold more pooled connections.
WORK_THREADS = 4
BACKGROUND_THREADS = 2

_executors: dict[str, ThreadPoolExecutor] = {}
_lock = threading.Lock()


def _executor(name: str, size: int) -> ThreadPoolExecutor:
    with _lock:
        executor = _executors.get(name)
        if executor is None:
            executor = _executors[name] = ThreadPoolExecutor(
                max_workers=size, thread_name_prefix=f"db-{name}")
        return executor


def _unit_of_work[**P, R](func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()  # a persistent connection that died while the thread idled
        try:
            return func(*args, **kwargs)
        finally:
            close_old_connections()

    return run


def db_work[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """An async version of ``func`` that runs in the database work threads (see above)."""
    return sync_to_async(_unit_of_work(func), thread_sensitive=False,
                         executor=_executor("work", WORK_THREADS))


def db_background[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Like :func:`db_work`, in the threads kept for work that no session waits for."""
    return sync_to_async(_unit_of_work(func), thread_sensitive=False,
                         executor=_executor("background", BACKGROUND_THREADS))


def db_writer[**P, R](func: Callable[P, R]) -> Callable[P, Awaitable[R]]:
    """Like :func:`db_work`, in one thread kept for the live event writer."""
    return sync_to_async(_unit_of_work(func), thread_sensitive=False,
                         executor=_executor("writer", 1))
