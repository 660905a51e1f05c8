"""``manage.py serve``: the ASGI server (HTTP + websockets), with the job worker in-process.

In the embedded default (no ``REDIS_URL``) the procrastinate worker runs in
the same asyncio loop as uvicorn, so the in-memory channel layer reaches the
websocket consumers. It runs as three procrastinate workers that fetch jobs in
parallel (``sandbox/runs/inprocess.py``, ``--fetchers``). With ``REDIS_URL``
set, run workers separately with ``manage.py procrastinate worker`` (any
number, on any machine) and pass ``--no-worker`` here, or keep the in-process
worker as well.

SIGINT and SIGTERM stop the server and the worker cleanly; the embedded
PostgreSQL stops with the last process that uses it.
"""

import asyncio
import contextlib
import logging
import os
import signal

import uvicorn
import uvloop
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.runs.inprocess import FETCHERS, run_inprocess_workers

logger = logging.getLogger("sandbox.serve")


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: this command owns the signals."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


class Command(BaseCommand):
    help = "Serve HTTP and websockets with uvicorn, running the job worker in-process."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--no-worker", action="store_true",
                            help="do not run the job worker in this process")
        parser.add_argument("--concurrency", type=int,
                            default=int(os.environ.get("WORKER_CONCURRENCY", "24")),
                            help="jobs the in-process worker runs at once")
        parser.add_argument("--fetchers", type=int, default=FETCHERS,
                            help="procrastinate workers in the process, fetching jobs in "
                                 "parallel and sharing --concurrency (sandbox/runs/inprocess.py)")

    def handle(self, *args, host, port, no_worker, concurrency, fetchers, **options):
        for option, value in (("--concurrency", concurrency), ("--fetchers", fetchers)):
            if value < 1:
                raise CommandError(f"{option} must be 1 or more (got {value}).")
        with_worker = settings.SANDBOX_INPROCESS_WORKER and not no_worker
        # uvloop, as uvicorn itself would pick: this command owns the event loop, so uvicorn's
        # own loop setup never runs. It carries the websockets, the HTTP requests and the
        # in-process worker.
        asyncio.run(self._serve(host, port, with_worker, concurrency, fetchers),
                    loop_factory=uvloop.new_event_loop)

    async def _serve(self, host: str, port: int, with_worker: bool, concurrency: int,
                     fetchers: int):
        # uvicorn logs at the platform's LOG_LEVEL; its access log (a line per request)
        # only when that level is INFO or more verbose.
        level = logging.getLevelName(logging.getLogger().getEffectiveLevel())
        config = uvicorn.Config("sandbox.asgi:application", host=host, port=port,
                                lifespan="off", log_level=level.lower(),
                                access_log=logging.getLogger().isEnabledFor(logging.INFO),
                                ws="websockets-sansio",
                                # Browsers ask for per-message compression; compressing every
                                # frame for every viewer costs more CPU than it saves on loopback
                                # and LAN links (measured: 14% of server samples at 200 viewers).
                                ws_per_message_deflate=False,
                                proxy_headers=settings.SECURE_HTTPS)
        server = _Server(config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)

        tasks = [asyncio.create_task(server.serve(), name="uvicorn")]
        worker_app = None
        if with_worker:
            from procrastinate.contrib.django import app

            worker_app = app.with_connector(app.connector.get_worker_connector())
            await worker_app.open_async()
            tasks.append(asyncio.create_task(
                run_inprocess_workers(worker_app, concurrency=concurrency, fetchers=fetchers),
                name="worker"))
        self.stdout.write(
            f"Serving on http://{host}:{port}/ "
            f"({'with' if with_worker else 'without'} the in-process job worker). "
            "Ctrl-C stops.")
        stopper = asyncio.create_task(stop.wait(), name="signal")
        done, _pending = await asyncio.wait([stopper, *tasks],
                                            return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception():
                logger.error("%s stopped: %r", task.get_name(), task.exception())
        self.stdout.write("Stopping…")
        server.should_exit = True
        for task in tasks:
            if task.get_name() == "worker":
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if worker_app is not None:
            await worker_app.close_async()
        stopper.cancel()
        self.stdout.write("Stopped.")
