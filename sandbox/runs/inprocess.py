"""The job worker inside the server's process, as ``manage.py serve`` (``make run``) runs it.

procrastinate's worker fetches one job at a time: each fetch is two round trips
(the pool's connection check, then the fetch) through the event loop that is
also streaming every running session. When runs start together, their jobs
queue behind each other's fetches: in ``tests/bench/bench_runs.py`` the last of
twenty sessions started 0.09-0.24 s after its run was created. Several workers
in the one process fetch in parallel, sharing the jobs the way separate worker
processes do (procrastinate's fetch skips the jobs another worker holds) and
the concurrency between them; with three the bench's embedded ratio measured
1.049 against 1.083-1.097 with one (docs/runs.md, *Benchmark*).

Each worker has its own heartbeat, listener connection and notification
handling; the periodic jobs are deferred once whichever worker gets there first
(procrastinate's periodic ids are unique).
"""

from __future__ import annotations

import asyncio

FETCHERS = 3  # workers in the one process; see the module's docstring


async def run_inprocess_workers(app, *, concurrency: int, fetchers: int = FETCHERS,
                                name: str = "in-process") -> None:
    """Run ``fetchers`` procrastinate workers of ``app`` in this event loop, together
    running at most ``concurrency`` jobs, until cancelled (or one fails)."""
    if concurrency < 1 or fetchers < 1:
        raise ValueError("the in-process worker needs a concurrency and fetchers of 1 or more")
    fetchers = min(fetchers, concurrency)
    each, extra = divmod(concurrency, fetchers)
    workers = [asyncio.create_task(
        app.run_worker_async(install_signal_handlers=False,
                             concurrency=each + (1 if number <= extra else 0),
                             name=f"{name}-{number}"), name=f"{name}-{number}")
        for number in range(1, fetchers + 1)]
    try:
        await asyncio.gather(*workers)
    finally:
        # When one failed, stop the others; when this was cancelled, gather has already
        # cancelled each once, and a second cancel would cut short its orderly stop
        # (unregistering itself, waiting for its running jobs).
        for worker in workers:
            if not worker.done() and not worker.cancelling():
                worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
