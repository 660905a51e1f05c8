"""The in-process job worker as ``manage.py serve`` runs it: several procrastinate workers in
one event loop, fetching jobs in parallel and sharing the concurrency
(sandbox/runs/inprocess.py)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from procrastinate.contrib.django import app
from procrastinate.contrib.django.models import ProcrastinateWorker

from sandbox.runs.inprocess import run_inprocess_workers
from sandbox.runs.models import Run
from sandbox.runs.services import run_start

pytestmark = pytest.mark.django_db(transaction=True)


async def _until(predicate, timeout=20):
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_three_workers_share_the_jobs_and_stop_together(sandbox_a, alice, pack, careful):
    runs = [await sync_to_async(run_start)(sandbox=sandbox_a, started_by=alice,
                                            models=[careful]) for _ in range(3)]
    worker_app = app.with_connector(app.connector.get_worker_connector())
    await worker_app.open_async()
    before = {w async for w in ProcrastinateWorker.objects.values_list("id", flat=True)}
    task = asyncio.create_task(run_inprocess_workers(worker_app, concurrency=6, fetchers=3,
                                                     name="test"))
    try:
        async def registered():
            return await ProcrastinateWorker.objects.exclude(id__in=before).acount() == 3
        await _until(registered)

        async def all_done():
            return not await Run.objects.filter(
                pk__in=[r.pk for r in runs], status__in=["queued", "running"]).aexists()
        await _until(all_done)
        statuses = {s async for s in Run.objects.filter(pk__in=[r.pk for r in runs])
                    .values_list("status", flat=True)}
        assert statuses == {"completed"}
        # The six sessions' jobs were shared: each job names the worker that ran it.
        from procrastinate.contrib.django.models import ProcrastinateJob

        ran_by = {w async for w in ProcrastinateJob.objects.filter(
            task_name="runs.run_session").values_list("worker_id", flat=True)}
        assert ran_by <= {w async for w in ProcrastinateWorker.objects.exclude(
            id__in=before).values_list("id", flat=True)} | {None}
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker_app.close_async()
    assert task.done()
    # Stopping unregisters every one of them.
    assert await ProcrastinateWorker.objects.exclude(id__in=before).acount() == 0


async def test_fewer_jobs_at_once_than_fetchers_means_fewer_workers(sandbox_a):
    worker_app = app.with_connector(app.connector.get_worker_connector())
    await worker_app.open_async()
    before = {w async for w in ProcrastinateWorker.objects.values_list("id", flat=True)}
    task = asyncio.create_task(run_inprocess_workers(worker_app, concurrency=1, fetchers=3,
                                                     name="one"))
    try:
        async def registered():
            return await ProcrastinateWorker.objects.exclude(id__in=before).acount() >= 1
        await _until(registered)
        await asyncio.sleep(0.3)
        assert await ProcrastinateWorker.objects.exclude(id__in=before).acount() == 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker_app.close_async()


async def test_when_one_worker_fails_the_others_stop_and_the_error_comes_out():
    """A stand-in app (its workers only wait or fail), to see what the function does with a
    failing worker: serve stops the whole process on it, so it must come out."""
    stopped = []

    class StandInApp:
        async def run_worker_async(self, *, name, **options):
            if name.endswith("-2"):
                await asyncio.sleep(0.05)
                raise RuntimeError("lost the database")
            try:
                await asyncio.sleep(60)
            finally:
                stopped.append(name)

    with pytest.raises(RuntimeError, match="lost the database"):
        await asyncio.wait_for(run_inprocess_workers(StandInApp(), concurrency=6, fetchers=3,
                                                     name="w"), timeout=5)
    assert sorted(stopped) == ["w-1", "w-3"]
