"""A job whose notification a worker loses is still picked up within the polling interval.

procrastinate 3.10's worker clears its "new job" flag after every fetch. When a job
commits (and PostgreSQL notifies the worker) while a fetch that finds nothing is under
way, the notification is forgotten and the job waits for the worker's next poll. The test
makes that happen on purpose, with a real worker and real notifications: it defers the
job from inside the worker's first empty fetch, waits until the worker has heard of it,
then lets the fetch return nothing.
"""

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from procrastinate import worker as procrastinate_worker
from procrastinate.contrib.django import app

from sandbox.runs.models import Session
from sandbox.runs.services import defer_sessions_sql, queued_jobs, run_start
from sandbox.sqlbatch import execute_together

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_lost_notification_costs_at_most_the_polling_interval(sandbox_a, alice, pack,
                                                                         careful):
    polling = settings.PROCRASTINATE_WORKER_DEFAULTS["fetch_job_polling_interval"]
    assert polling <= 1  # procrastinate's own default is 5 s

    # A run whose job is queued later, from inside the worker's fetch (below).
    def create_run():
        run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful],
                        scenarios=list(sandbox_a.scenarios.all()[:1]))
        session = Session.objects.get(run=run)
        queued_jobs([session.pk]).delete()  # no job yet: it is deferred during the fetch
        return session

    session = await sync_to_async(create_run)()
    worker_app = app.with_connector(app.connector.get_worker_connector())
    await worker_app.open_async()
    started = asyncio.Event()
    planted: dict = {}
    fetch_job = worker_app.job_manager.fetch_job

    async def fetch_that_misses(**kwargs):
        job = await fetch_job(**kwargs)
        if job is None and not planted:
            # Autocommit: the job commits at once and PostgreSQL notifies.
            await sync_to_async(lambda: execute_together([defer_sessions_sql([session])]))()
            planted["at"] = time.monotonic()
            await asyncio.sleep(0.5)  # the worker hears of it meanwhile ...
            # ... and is about to forget it (the worker's private flag, read to be sure the
            # test makes the race it means to).
            assert worker._new_job_event.is_set()
        elif job is not None and job.task_kwargs.get("session_id") == session.pk:
            planted["picked"] = time.monotonic()
            started.set()
        return job

    worker_app.job_manager.fetch_job = fetch_that_misses
    worker = procrastinate_worker.Worker(app=worker_app, **{**worker_app.worker_defaults,
                                                     "concurrency": 2,
                                                     "install_signal_handlers": False})
    task = asyncio.create_task(worker.run())
    try:
        await asyncio.wait_for(started.wait(), timeout=10)
    finally:
        worker.stop()
        await asyncio.gather(task, return_exceptions=True)
        await worker_app.close_async()
    # Picked up by the next poll, not by the lost notification: within the polling interval
    # after the fetch returned (0.5 s after planting), where procrastinate's default waits 5 s.
    assert planted["picked"] - planted["at"] < 0.5 + polling + 0.5
