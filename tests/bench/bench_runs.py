"""Benchmark: the platform's overhead on runs against a local streaming endpoint.

Runs 20 concurrent runs (one scenario of TURNS turns each, one model) through
the whole platform — run_start, procrastinate jobs picked up by a worker, the
engine, token frames to the channel layer, checks, saved turns — against a
local OpenAI-compatible endpoint that streams at a fixed rate, and times the
same conversations made directly with LangChain. Prints both wall times and
their ratio (goal ≤ 1.05) for three deployments (``MODES``): the worker inside
this process, as ``make run`` serves, and one or two separate ``manage.py
procrastinate worker`` processes with Redis, as docs/runs.md's deployment for
scale. Exits 1 when a mode misses the goal. ``BENCH_MODES`` picks modes by
name prefix (``BENCH_MODES=embedded``).

Each round also prints where the last run to finish spent its time: when it
was created, how long its first turn took to start (the job picked up, the
session opened), its model calls, the gaps between its turns and its close.

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

Each of ``ROUNDS`` rounds times the direct calls, then the platform, back to
back; the verdict is on the median of the rounds' ratios, and every round is
printed. The direct calls are made twice per round: with ``ChatOpenAI`` as it
ships (through the OpenAI SDK), the baseline of the verdict; and with the same
``ChatOpenAI`` given the platform's lean client (``domains/openai_client.py``,
over the loop's aiohttp session), which streams with about a quarter of the
SDK's CPU. The second ratio is the
platform's orchestration alone, model client for model client; it is printed
so that the client's saving cannot pass for the orchestration's.

One round alone is at the mercy of the machine: the direct time of the same 60
calls varied from 2.66 to 2.87 s between single runs on an idle machine, enough
to move the ratio by eight points.

The platform's time ends when the last run is recorded as finished (its
``finished_at``, stamped by the same process's clock when the last session
closes it), the moment the API starts answering ``completed``. The bench
looks for that every ``POLL`` seconds; how often does not change the time
measured (the timestamp does), only the load the looking puts on the process
it measures: it used to ask every 10 ms, then every 50 ms, queries through the
process's shared ORM thread that a client polling ``GET .../runs/{id}/`` over
HTTP does not put on the worker's event loop.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

RUNS = 20
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 5))  # per mode
TURNS = 3
TOKENS = 40  # words per reply
DELAY = 0.02  # seconds between streamed words: 50 tokens/s per stream
GOAL = 1.05
POLL = 0.25  # seconds between looks for the last run's end (see the docstring)

# Each mode: (what it measures, separate worker processes; 0 = the worker in this process).
MODES = {
    "embedded": ("the worker inside the process that starts the runs, as `make run` serves",
                 0),
    "separate worker": ("a `manage.py procrastinate worker` process with Redis, as "
                        "docs/runs.md's deployment for scale; the runs are started from this "
                        "process, as the API server's", 1),
    "two separate workers": ("two such worker processes, one per core of a 2-core machine "
                             "(procrastinate shares the jobs between them)", 2),
}
# BENCH_MODES=embedded (or a comma-separated list of mode name prefixes) runs only those.
SELECTED = [mode for mode in MODES
            if any(mode.startswith(prefix.strip()) for prefix in
                   os.environ.get("BENCH_MODES", ",".join(MODES)).split(","))]


def main() -> int:
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
    results: dict[str, list[tuple[float, float, float]]] = {mode: [] for mode in MODES}
    try:
        _wait_for(base_url)
        for mode in SELECTED:
            description, processes = MODES[mode]
            print(f"== {mode}: {description}", flush=True)
            workers = []
            if processes:
                redis_url = _redis_url()
                if redis_url is None:
                    print(f"   skipped: no Redis answers at {REDIS_URL} (set BENCH_REDIS_URL)")
                    continue
                workers = [_start_worker(redis_url) for _ in range(processes)]
            try:
                for number in range(1, ROUNDS + 1):
                    direct = asyncio.run(direct_langchain(base_url))
                    lean = asyncio.run(direct_langchain(base_url, lean_client=True))
                    platform = asyncio.run(through_platform(
                        base_url, f"{mode[0]}{number}", in_process=not workers))
                    results[mode].append((direct, platform, lean))
                    print(f"   round {number}: direct {direct:.2f} s (with the platform's client "
                          f"{lean:.2f} s), platform {platform:.2f} s, ratio {platform / direct:.3f}"
                          f" ({platform / lean:.3f})", flush=True)
            finally:
                for worker in workers:
                    _stop_worker(worker)
    finally:
        stub.terminate()
        stub.wait(timeout=10)
        _end_other_sessions()
        teardown_databases(databases, verbosity=0)
    expected = TURNS * TOKENS * DELAY
    print(f"runs: {RUNS} concurrent × {TURNS} turns × {TOKENS} tokens at "
          f"{1 / DELAY:.0f} tokens/s (ideal {expected:.2f} s per run), {ROUNDS} rounds per mode")
    verdicts = {}
    for mode, rounds in results.items():
        if not rounds:
            continue
        directs = sorted(d for d, _, _ in rounds)
        leans = sorted(lean for _, _, lean in rounds)
        platforms = sorted(p for _, p, _ in rounds)
        ratios = sorted(p / d for d, p, _ in rounds)
        orchestration = sorted(p / lean for _, p, lean in rounds)
        ratio = median(ratios)
        verdicts[mode] = ratio <= GOAL
        print(f"{mode}:")
        print(f"  direct LangChain calls: median {median(directs):.2f} s "
              f"({directs[0]:.2f}–{directs[-1]:.2f})")
        print(f"  the same with the platform's client: median {median(leans):.2f} s "
              f"({leans[0]:.2f}–{leans[-1]:.2f})")
        print(f"  through the platform:   median {median(platforms):.2f} s "
              f"({platforms[0]:.2f}–{platforms[-1]:.2f})")
        print(f"  ratio platform / direct: median {ratio:.3f} (rounds {ratios[0]:.3f}–"
              f"{ratios[-1]:.3f}; goal ≤ {GOAL}: {'met' if verdicts[mode] else 'NOT met'})")
        print(f"  the orchestration alone (platform / direct with the platform's client): "
              f"median {median(orchestration):.3f} (rounds {orchestration[0]:.3f}–"
              f"{orchestration[-1]:.3f})")
    return 0 if verdicts and all(verdicts.values()) else 1


def _end_other_sessions() -> None:
    """End other connections to this bench's throwaway database (an idle thread's, a stopped
    worker's not yet gone), which would stop it from being dropped."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                       " WHERE datname = current_database() AND pid <> pg_backend_pid()")
    connection.close()


REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _redis_url() -> str | None:
    """The Redis for the separate-worker mode, or None when none answers."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return None
    return REDIS_URL


def _start_worker(redis_url: str):
    """``manage.py procrastinate worker`` on this bench's database, as ``make worker`` runs it;
    returns once it is listening."""
    import subprocess
    from urllib.parse import urlsplit, urlunsplit

    from django.db import connection
    from procrastinate.contrib.django.models import ProcrastinateWorker

    from sandbox import embedded_db

    base = os.environ.get("DATABASE_URL") or embedded_db.database_url(ROOT)
    database_url = urlunsplit(urlsplit(base)._replace(path="/" + connection.settings_dict["NAME"]))
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url,
           "LOG_LEVEL": "WARNING"}
    env.pop("TEST_DATABASE_NAME", None)
    before = set(ProcrastinateWorker.objects.values_list("id", flat=True))
    process = subprocess.Popen([sys.executable, "manage.py", "procrastinate", "worker",
                                "--concurrency", str(RUNS + 4)], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while not set(ProcrastinateWorker.objects.values_list("id", flat=True)) - before:
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the separate worker did not start")
        time.sleep(0.2)
    connection.close()
    time.sleep(0.5)  # listening before the clock starts
    return process


def _stop_worker(process) -> None:
    import signal
    import subprocess

    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


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


async def direct_langchain(base_url: str, *, lean_client: bool = False) -> float:
    """The same conversations, made directly with LangChain's ChatOpenAI: as it ships, or
    (``lean_client``) the chat model the platform builds for the endpoint
    (``domains.llm.chat_model``: the same ChatOpenAI with the platform's client)."""
    import httpx
    from langchain_core.messages import AIMessage, HumanMessage
    from langchain_openai import ChatOpenAI

    from domains.http_sessions import loop_session
    from domains.llm import chat_model
    from domains.models import DomainModel

    async def conversation(run: int, client, session):
        if lean_client:
            model = chat_model(DomainModel(provider="openai", base_url=base_url,
                                           model_name="stub", timeout_seconds=60),
                               session=session)
        else:
            model = ChatOpenAI(base_url=base_url, model="stub", api_key="x", max_retries=0,
                               http_async_client=client, stream_usage=True)
        history = []
        for turn in range(TURNS):
            history.append(HumanMessage(question(run, turn)))
            parts = [chunk.content async for chunk in model.astream(history)]
            history.append(AIMessage("".join(parts)))

    # One shared client, as a well-written direct caller would use (and as the platform does).
    async with httpx.AsyncClient(timeout=60) as client, loop_session() as session:
        started = time.perf_counter()
        await asyncio.gather(*(conversation(run, client, session) for run in range(RUNS)))
        return time.perf_counter() - started


async def through_platform(base_url: str, number: str, *, in_process: bool) -> float:
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
        user = get_user_model().objects.create_user(f"bench{number}", password="x")
        sandbox = core.sandbox_create(created_by=user, name=f"bench {number}",
                                      vertical="automotive",
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
    worker = worker_app = None
    if in_process:
        worker_app = app.with_connector(app.connector.get_worker_connector())
        await worker_app.open_async()
        # As `manage.py serve` runs it (sandbox/runs/inprocess.py: three workers fetching in
        # parallel; PROCRASTINATE_WORKER_DEFAULTS: polling every 0.5 s).
        from sandbox.runs.inprocess import run_inprocess_workers

        worker = asyncio.create_task(run_inprocess_workers(worker_app, concurrency=RUNS + 4))
    try:
        if in_process:
            await asyncio.sleep(0.5)  # the worker is listening before the clock starts
        from django.utils import timezone

        started = time.perf_counter()
        run_start_wall = timezone.now()
        async with ThreadSensitiveContext():  # as an API request (see the docstring)
            run_ids = await start_all(user, sandbox, model, scenarios)
        started_in = time.perf_counter() - started
        while await Run.objects.filter(pk__in=run_ids, status__in=["queued", "running"]
                                       ).aexists():
            await asyncio.sleep(POLL)
        finished = await Run.objects.filter(pk__in=run_ids).order_by("-finished_at").values_list(
            "finished_at", flat=True).afirst()
        elapsed = (finished - run_start_wall).total_seconds()
        from sandbox.runs.models import Turn

        first = await Turn.objects.filter(run_id__in=run_ids, index=0).order_by(
            "started_at").values_list("started_at", flat=True).afirst()
        last_done = await Turn.objects.filter(run_id__in=run_ids).order_by(
            "-completed_at").values_list("completed_at", flat=True).afirst()
        gaps = [t async for t in Turn.objects.filter(run_id__in=run_ids).values_list(
            "started_at", "completed_at", "latency_ms")]
        overhead = [((c - s).total_seconds() * 1000 - (lat or 0)) for s, c, lat in gaps]
        print(f"   platform: the {RUNS} runs were started in {started_in:.2f} s; first turn "
              f"started {(first - run_start_wall).total_seconds():.2f} s after the start; last "
              f"turn ended {(last_done - first).total_seconds():.2f} s later; per-turn time "
              f"outside the model call: median {median(overhead):.0f} ms")
        print("   " + await _critical_path(run_ids, run_start_wall))
        statuses = [s async for s in Run.objects.filter(pk__in=run_ids).values_list(
            "status", flat=True)]
        if set(statuses) != {"completed"}:
            raise SystemExit(f"runs did not all complete: {statuses}")
    finally:
        if worker is not None:
            worker.cancel()
            await asyncio.gather(worker, return_exceptions=True)
            await worker_app.close_async()
    return elapsed


async def _critical_path(run_ids: list[int], start) -> str:
    """Where the last run to finish spent its time, from the bench's start to its end."""
    from sandbox.runs.models import Run, Turn

    run = await Run.objects.filter(pk__in=run_ids).order_by("-finished_at").afirst()
    turns = [t async for t in Turn.objects.filter(run=run).order_by("index")]
    model = sum(t.latency_ms for t in turns) / 1000
    ends = [t.started_at.timestamp() + t.latency_ms / 1000 for t in turns]
    between = sum(b.started_at.timestamp() - a for a, b in zip(ends, turns[1:], strict=False))
    return (f"last run: created +{(run.created_at - start).total_seconds():.3f} s, first turn "
            f"+{(turns[0].started_at - run.created_at).total_seconds():.3f} s later, model "
            f"calls {model:.3f} s ({', '.join(f'{t.latency_ms / 1000:.3f}' for t in turns)}), "
            f"between turns {between:.3f} s, closed "
            f"+{run.finished_at.timestamp() - ends[-1]:.3f} s after the last answer")


if __name__ == "__main__":
    raise SystemExit(main())
