"""Benchmark: the platform's overhead on runs against a local streaming endpoint.

Runs 20 concurrent runs (one scenario of TURNS turns each, one model) through
the whole platform — run_start, procrastinate jobs picked up by a worker in
this process, the engine, token frames to the channel layer, checks, saved
turns — against a local OpenAI-compatible endpoint that streams at a fixed
rate, and times the same conversations made directly with LangChain. Prints
both wall times and their ratio (goal ≤ 1.05).

Run with ``make bench`` or ``.venv/bin/python tests/bench/bench_runs.py``. It
uses a database of its own (created in the embedded PostgreSQL, or on the
server of DATABASE_URL) and drops it afterwards.

The runs are started the way the API starts them: ``run_start`` runs in a
thread-sensitive context of its own (``ThreadSensitiveContext``, which Django's
ASGI handler opens for every request), and its thread's connection is closed
afterwards (Django's ``request_finished``). Without that context the bench
called ``run_start`` in the process's one shared sync thread, the thread
procrastinate's Django middleware hops through (``close_old_connections``)
before it starts each job; no session could start before all twenty runs were
created, a coupling of this script's caller with the worker that a deployment
does not have (API requests never run in that thread, and a separate worker
process shares nothing). With the old way, ``first turn started`` below is
never earlier than ``starting the 20 runs took``.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 20
TURNS = 3
TOKENS = 40  # words per reply
DELAY = 0.02  # seconds between streamed words: 50 tokens/s per stream


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["TEST_DATABASE_NAME"] = f"bench_runs_{os.getpid()}"
    import django

    django.setup()
    import subprocess

    from django.test.utils import setup_databases, teardown_databases

    from tests.support.openai_server import free_port

    databases = setup_databases(verbosity=0, interactive=False)
    # The endpoint runs in a process of its own, so it does not share this one's CPU.
    port = free_port()
    stub = subprocess.Popen([sys.executable, "-m", "tests.support.openai_server", str(port),
                             str(DELAY), " ".join(f"word{i}" for i in range(TOKENS))], cwd=ROOT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_for(base_url)
        direct = asyncio.run(direct_langchain(base_url))
        platform = asyncio.run(through_platform(base_url))
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        teardown_databases(databases, verbosity=0)
    expected = TURNS * TOKENS * DELAY
    print(f"runs: {RUNS} concurrent × {TURNS} turns × {TOKENS} tokens at "
          f"{1 / DELAY:.0f} tokens/s (ideal {expected:.2f} s per run)")
    print(f"direct LangChain calls: {direct:.2f} s")
    print(f"through the platform:   {platform:.2f} s")
    ratio = platform / direct
    verdict = "met" if ratio <= 1.05 else "NOT met"
    print(f"ratio platform / direct: {ratio:.3f} (goal ≤ 1.05: {verdict})")


def _wait_for(base_url: str) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.post(f"{base_url}/chat/completions", json={"messages": []}, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the stub endpoint did not start")


def question(run: int, turn: int) -> str:
    return f"Run {run} question {turn}: what is the recommended tyre pressure?"


async def direct_langchain(base_url: str) -> float:
    """The same conversations, made directly with LangChain's ChatOpenAI."""
    import httpx
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    async def conversation(run: int, client):
        model = ChatOpenAI(base_url=base_url, model="stub", api_key="x", max_retries=0,
                           http_async_client=client, stream_usage=True)
        history = []
        for turn in range(TURNS):
            history.append(HumanMessage(question(run, turn)))
            parts = [chunk.content async for chunk in model.astream(history)]
            history.append(AIMessage("".join(parts)))

    # One shared client, as a well-written direct caller would use (and as the platform does).
    async with httpx.AsyncClient(timeout=60) as client:
        started = time.perf_counter()
        await asyncio.gather(*(conversation(run, client) for run in range(RUNS)))
        return time.perf_counter() - started


async def through_platform(base_url: str) -> float:
    from asgiref.sync import ThreadSensitiveContext, sync_to_async
    from django.contrib.auth import get_user_model
    from procrastinate.contrib.django import app

    from domains.models import DomainModel
    from sandbox.core import services as core
    from sandbox.runs.models import Run
    from sandbox.runs.services import run_start
    from scenarios.services import pack_import

    @sync_to_async
    def prepare():
        user = get_user_model().objects.create_user("bench", password="x")
        sandbox = core.sandbox_create(created_by=user, name="bench", vertical="automotive",
                                      status="active", max_concurrent_runs=RUNS + 5,
                                      token_budget=10**9)
        model = DomainModel.objects.create(sandbox=sandbox, name="stub", provider="openai",
                                           base_url=base_url, model_name="stub",
                                           timeout_seconds=60)
        scenarios = []
        for run in range(RUNS):
            turns = "".join(f"      - user: \"{question(run, t)}\"\n        expect: answer\n"
                            for t in range(TURNS))
            text = (f"pack: {{id: bench-{run}, title: Bench, vertical: automotive, "
                    f"language: en}}\nscenarios:\n  - id: bench-{run}\n    title: Bench\n"
                    f"    default_checks: true\n    turns:\n{turns}")
            record, _ = pack_import(sandbox=sandbox, text=text, filename=f"bench-{run}.yaml",
                                    actor=user)
            scenarios.append(record.scenarios.get())
        return user, sandbox, model, scenarios

    @sync_to_async
    def start_all(user, sandbox, model, scenarios):
        from django.db import connection

        try:
            return [run_start(sandbox=sandbox, started_by=user, models=[model],
                              scenarios=[scenario]).pk for scenario in scenarios]
        finally:
            connection.close()  # as at the end of a request

    user, sandbox, model, scenarios = await prepare()
    worker_app = app.with_connector(app.connector.get_worker_connector())
    await worker_app.open_async()
    worker = asyncio.create_task(worker_app.run_worker_async(
        install_signal_handlers=False, concurrency=RUNS + 4, fetch_job_polling_interval=0.1))
    try:
        await asyncio.sleep(0.5)  # the worker is listening before the clock starts
        from django.utils import timezone

        run_start_wall = timezone.now()
        started = time.perf_counter()
        async with ThreadSensitiveContext():  # as an API request (see the docstring)
            run_ids = await start_all(user, sandbox, model, scenarios)
        print(f"starting the 20 runs took {time.perf_counter() - started:.2f} s")
        while await Run.objects.filter(pk__in=run_ids, status__in=["queued", "running"]
                                       ).aexists():
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        from sandbox.runs.models import Turn

        first = await Turn.objects.filter(run_id__in=run_ids, index=0).order_by(
            "started_at").values_list("started_at", flat=True).afirst()
        last_done = await Turn.objects.filter(run_id__in=run_ids).order_by(
            "-completed_at").values_list("completed_at", flat=True).afirst()
        gaps = [t async for t in Turn.objects.filter(run_id__in=run_ids).values_list(
            "started_at", "completed_at", "latency_ms")]
        overhead = [((c - s).total_seconds() * 1000 - (lat or 0)) for s, c, lat in gaps]
        print(f"first turn started {(first - run_start_wall).total_seconds():.2f} s after the "
              f"start; last turn ended {(last_done - first).total_seconds():.2f} s later; "
              f"per-turn time outside the model call: median "
              f"{sorted(overhead)[len(overhead) // 2]:.0f} ms")
        statuses = [s async for s in Run.objects.filter(pk__in=run_ids).values_list(
            "status", flat=True)]
        if set(statuses) != {"completed"}:
            raise SystemExit(f"runs did not all complete: {statuses}")
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        await worker_app.close_async()
    return elapsed


if __name__ == "__main__":
    main()
