"""The in-process job worker as ``manage.py serve`` runs it: several procrastinate workers in
one event loop, fetching jobs in parallel and sharing the concurrency
(sandbox/runs/inprocess.py)."""

import asyncio
import contextlib

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


@contextlib.asynccontextmanager
async def inprocess_workers(**options):
    """``run_inprocess_workers`` on a real worker app, as serve runs it; yields a function
    giving the ids of the workers it registered, and stops them on leaving."""
    worker_app = app.with_connector(app.connector.get_worker_connector())
    await worker_app.open_async()
    before = {w async for w in ProcrastinateWorker.objects.values_list("id", flat=True)}

    async def registered() -> set[int]:
        return {w async for w in ProcrastinateWorker.objects.exclude(id__in=before)
                .values_list("id", flat=True)}

    task = asyncio.create_task(run_inprocess_workers(worker_app, **options))
    try:
        yield registered
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await worker_app.close_async()
    # Stopping unregisters every one of them.
    assert await registered() == set()


async def test_three_workers_share_the_jobs_and_stop_together(sandbox_a, alice, pack, careful):
    runs = [await sync_to_async(run_start)(sandbox=sandbox_a, started_by=alice,
                                            models=[careful]) for _ in range(3)]
    async with inprocess_workers(concurrency=6, fetchers=3, name="test") as registered:
        async def three():
            return len(await registered()) == 3
        await _until(three)

        async def all_done():
            return not await Run.objects.filter(
                pk__in=[r.pk for r in runs], status__in=["queued", "running"]).aexists()
        await _until(all_done)
        statuses = {s async for s in Run.objects.filter(pk__in=[r.pk for r in runs])
                    .values_list("status", flat=True)}
        assert statuses == {"completed"}
        # The sessions' jobs were run by these workers.
        from procrastinate.contrib.django.models import ProcrastinateJob

        ran_by = {w async for w in ProcrastinateJob.objects.filter(
            task_name="runs.run_session").values_list("worker_id", flat=True)}
        assert ran_by <= await registered() | {None}


async def test_fewer_jobs_at_once_than_fetchers_means_fewer_workers(sandbox_a):
    async with inprocess_workers(concurrency=1, fetchers=3, name="one") as registered:
        async def one():
            return len(await registered()) >= 1
        await _until(one)
        await asyncio.sleep(0.3)
        assert len(await registered()) == 1


class StandInApp:
    """Stands in for procrastinate's app (its workers only wait, or fail when told to), to
    see what run_inprocess_workers does with them."""

    def __init__(self, fail: str = ""):
        self.fail = fail
        self.started: dict[str, int] = {}
        self.stopped: list[str] = []

    async def run_worker_async(self, *, name, concurrency, **options):
        self.started[name] = concurrency
        if name == self.fail:
            await asyncio.sleep(0.05)
            raise RuntimeError("lost the database")
        try:
            await asyncio.sleep(60)
        finally:
            self.stopped.append(name)


@pytest.mark.parametrize(("concurrency", "fetchers", "shares"), [
    (24, 3, [8, 8, 8]), (7, 3, [3, 2, 2]), (2, 3, [1, 1]), (1, 1, [1])])
async def test_the_concurrency_is_shared_exactly(concurrency, fetchers, shares):
    stand_in = StandInApp()
    task = asyncio.create_task(run_inprocess_workers(stand_in, concurrency=concurrency,
                                                     fetchers=fetchers, name="w"))
    await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert list(stand_in.started.values()) == shares
    assert sorted(stand_in.stopped) == sorted(stand_in.started)


@pytest.mark.parametrize(("concurrency", "fetchers"), [(0, 3), (24, 0)])
async def test_no_concurrency_or_no_fetcher_is_refused(concurrency, fetchers):
    with pytest.raises(ValueError, match="1 or more"):
        await run_inprocess_workers(StandInApp(), concurrency=concurrency, fetchers=fetchers)


def test_serve_refuses_a_concurrency_or_fetchers_below_one():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="--concurrency must be 1 or more"):
        call_command("serve", concurrency=0)
    with pytest.raises(CommandError, match="--fetchers must be 1 or more"):
        call_command("serve", fetchers=-1)


async def test_when_one_worker_fails_the_others_stop_and_the_error_comes_out():
    """serve stops the whole process on a failed worker, so the error must come out."""
    stand_in = StandInApp(fail="w-2")
    with pytest.raises(RuntimeError, match="lost the database"):
        await asyncio.wait_for(run_inprocess_workers(stand_in, concurrency=6, fetchers=3,
                                                     name="w"), timeout=5)
    assert sorted(stand_in.stopped) == ["w-1", "w-3"]


async def test_a_session_s_job_skips_the_thread_sensitive_cleanup_hop(sandbox_a, alice, pack,
                                                                      careful, monkeypatch):
    """procrastinate's async cleanup middleware waits for Django's one thread-sensitive thread
    before every job; a session's job never uses that thread (sandbox/runs/job_connections.py),
    so it goes straight to the engine."""
    from procrastinate.contrib.django import db_cleanup

    delegated = []
    original = db_cleanup.close_db_connections_async

    async def recording(call_next, context, worker):
        delegated.append(context.job.task_name)
        return await original(call_next, context, worker)

    monkeypatch.setattr(db_cleanup, "close_db_connections_async", recording)
    run = await sync_to_async(run_start)(sandbox=sandbox_a, started_by=alice, models=[careful])
    async with inprocess_workers(concurrency=4, fetchers=2, name="hop"):
        async def done():
            return not await Run.objects.filter(pk=run.pk,
                                                status__in=["queued", "running"]).aexists()
        await _until(done)
    assert (await Run.objects.aget(pk=run.pk)).status == "completed"
    assert "runs.run_session" not in delegated
