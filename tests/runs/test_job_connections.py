"""procrastinate's Django connection cleanup, skipped for the jobs that take their own
connections (sandbox/runs/job_connections.py)."""

import asyncio
from types import SimpleNamespace

import pytest
from procrastinate.contrib.django import app, db_cleanup

from sandbox.runs import job_connections


def test_the_workers_use_the_platform_s_cleanup_middleware():
    """Configured once for the app (PROCRASTINATE_ON_APP_READY), inherited by the worker app
    that ``serve`` builds for its in-process workers."""
    worker_app = app.with_connector(app.connector)
    for configured in (app, worker_app):
        middleware = configured.worker_defaults["task_middleware"]
        assert job_connections.close_db_connections_async in middleware
        assert db_cleanup.close_db_connections_async not in middleware
        assert db_cleanup.close_db_connections in middleware  # sync tasks keep theirs
    assert app.connector.get_worker_connector is job_connections.worker_connector


@pytest.mark.parametrize(("task_name", "cleaned"), [("runs.run_session", False),
                                                    ("live.synthetic_stream", True)])
def test_only_the_tasks_that_own_their_connections_skip_the_cleanup(task_name, cleaned,
                                                                   monkeypatch):
    """Stand-in job context: the middleware reads only the job's task name."""
    hops = []

    async def cleanup():
        hops.append("cleanup")

    monkeypatch.setattr(db_cleanup, "_cleanup_before_async", cleanup)
    monkeypatch.setattr(db_cleanup, "_cleanup_after_async", cleanup)

    async def call_next():
        hops.append("task")
        return "result"

    context = SimpleNamespace(job=SimpleNamespace(task_name=task_name))
    result = asyncio.run(job_connections.close_db_connections_async(call_next, context, None))
    assert result == "result"
    assert hops == (["cleanup", "task", "cleanup"] if cleaned else ["task"])


def test_a_procrastinate_without_its_cleanup_middleware_is_reported():
    bare = SimpleNamespace(worker_defaults={"task_middleware": []})
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="job_connections needs updating"):
        job_connections.on_app_ready(bare)


@pytest.mark.django_db(transaction=True)
def test_the_workers_pool_is_in_autocommit_mode_and_fetches_jobs(sandbox_a, alice, pack,
                                                                  careful):
    """A fetch is the pool's check and one statement: no BEGIN and COMMIT of its own. The
    connector is the one procrastinate's ``manage.py procrastinate worker`` and ``serve``
    ask the Django connector for."""
    from sandbox.runs.services import run_start

    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    connector = app.connector.get_worker_connector()
    worker_app = app.with_connector(connector)

    async def fetch():
        await worker_app.open_async()
        try:
            async with connector.pool.connection() as conn:
                autocommit = conn.autocommit
            worker_id = await worker_app.job_manager.register_worker()
            job = await worker_app.job_manager.fetch_job(queues=None, worker_id=worker_id)
            await worker_app.job_manager.unregister_worker(worker_id)
            return autocommit, job
        finally:
            await worker_app.close_async()

    autocommit, job = asyncio.run(fetch())
    assert autocommit is True
    assert job.task_name == "runs.run_session"
    assert job.task_kwargs["session_id"] in set(run.sessions.values_list("pk", flat=True))
