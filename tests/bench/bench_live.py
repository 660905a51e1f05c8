"""Benchmark of live monitoring: 20 streaming runs watched by 200 websocket clients.

Run from the repository root (not collected by pytest)::

    .venv/bin/python tests/bench/bench_live.py                 # both modes
    .venv/bin/python tests/bench/bench_live.py --mode embedded --seconds 20

Each mode starts a real server process (``manage.py serve``) on a free port,
against a separate database ``bench_live`` on the embedded PostgreSQL (or
``BENCH_DATABASE_URL``), and 20 runs of one session each in a "Live bench"
sandbox. Synthetic publishers (``sandbox.live.synthetic``, the
``live.synthetic_stream`` job) stream 20 tokens per second per run through
``sandbox/live/publish.py``; every token carries the wall-clock time it was
produced.

- embedded: in-memory channel layer; the jobs run in the server's in-process
  worker, so the publishers are inside the server process;
- redis: ``REDIS_URL=redis://127.0.0.1:6379/<n>`` (``--redis-db``); the server runs
  with ``--no-worker`` and a separate ``manage.py procrastinate worker`` process
  publishes through channels-redis.

200 clients (this process, ``websockets``): 5 on each run's stream, 100 on the
sandbox stream. Reported: token-to-viewer latency p50/p99 (token produced ->
frame received), frames delivered / frames sent (sent = token events stored,
times the viewers that should get them), lost and duplicated counts, websocket
messages per sandbox viewer, and the server's CPU (psutil, over the streaming
window). Exit status 1 when a goal is missed: nothing lost or duplicated,
p99 <= 100 ms, server CPU below one core.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import uvloop

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

GOAL_P99_MS = 100.0
GOAL_CPU_CORES = 1.0
STAMP = re.compile(r"@(\d+\.\d+) ")


def bench_database_url() -> str:
    """``BENCH_DATABASE_URL``, else a ``bench_live`` database on the embedded PostgreSQL."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    from sandbox import embedded_db

    base = embedded_db.database_url(ROOT)
    server = embedded_db.start(ROOT)
    if "(1 row)" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'bench_live';"):
        server.psql("CREATE DATABASE bench_live;")
    server.psql("\\c bench_live\nCREATE EXTENSION IF NOT EXISTS vector;")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/bench_live"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def make_runs(count: int, seconds: float, rate: float):
    """A fresh set of ``count`` queued runs (one session each) in the bench sandbox."""
    from django.contrib.auth import get_user_model

    from domains.models import DomainModel
    from sandbox.core import services
    from sandbox.core.models import Sandbox
    from sandbox.runs.models import Run, Session
    from scenarios.models import Scenario, ScenarioPack

    user, _ = get_user_model().objects.get_or_create(username="bench-operator")
    sandbox = Sandbox.objects.filter(name="Live bench").first()
    if sandbox is None:
        sandbox = services.sandbox_create(created_by=user, name="Live bench", vertical="medical",
                                          status="active", max_concurrent_runs=1000)
    model, _ = DomainModel.objects.get_or_create(
        sandbox=sandbox, name="synthetic", version="1",
        defaults={"provider": "scripted", "script": {"default": "."}})
    pack, _ = ScenarioPack.objects.get_or_create(sandbox=sandbox, pack_id="bench",
                                                 defaults={"source": "pack: bench"})
    spec = {"id": "bench", "title": "bench", "turns": [{"id": "t0", "user": "Go"}]}
    scenario, _ = Scenario.objects.get_or_create(
        sandbox=sandbox, scenario_id="bench",
        defaults={"pack": pack, "title": "bench", "vertical": "medical", "language": "en",
                  "spec": spec})
    runs = []
    for _ in range(count):
        run = Run.objects.create(sandbox=sandbox, started_by=user, turns_total=1)
        Session.objects.create(run=run, sandbox=sandbox, scenario=scenario, model=model,
                               spec=spec, variant_id="bench")
        runs.append(run)
    return user, sandbox, runs


def tickets(user, count: int) -> list[str]:
    from sandbox.live.services import ws_ticket_issue

    return [ws_ticket_issue(user=user)[0] for _ in range(count)]


class Watcher:
    """One websocket client: counts what it gets per run, measures token latency."""

    def __init__(self, url: str, kind: str, runs: set[int], compression: bool):
        self.url = url
        self.compression = compression
        self.kind = kind
        self.runs = runs  # the runs whose tokens it must receive
        self.seen: dict[int, set[int]] = {}
        self.duplicates = 0
        self.tokens: dict[int, int] = {}
        self.latencies: list[float] = []
        self.messages = 0
        self.finished: set[int] = set()
        self.done = asyncio.Event()
        self.connected = asyncio.Event()
        self.error = ""

    async def watch(self, deadline: float) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(self.url, max_size=None, open_timeout=30,
                               compression="deflate" if self.compression else None) as ws:
                self.connected.set()
                while not self.done.is_set():
                    remaining = deadline - time.time()
                    if remaining <= 0:
                        return
                    try:
                        data = await asyncio.wait_for(ws.recv(), timeout=remaining)
                    except TimeoutError:
                        return
                    now = time.time()
                    self.messages += 1
                    for event in json.loads(data):
                        self.take(event, now)
        except Exception as exc:  # reported in the results, never hidden
            self.error = repr(exc)
            self.connected.set()

    def take(self, event: dict, now: float) -> None:
        run = event.get("run")
        if run not in self.runs:
            return
        seen = self.seen.setdefault(run, set())
        if event["seq"] in seen:
            self.duplicates += 1
            return
        seen.add(event["seq"])
        if event["type"] == "token":
            self.tokens[run] = self.tokens.get(run, 0) + 1
            for stamp in STAMP.findall(event["text"]):
                self.latencies.append(now - float(stamp))
        elif event["type"] == "run.completed":
            self.finished.add(run)
            if self.finished >= self.runs:
                self.done.set()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def start_processes(mode: str, port: int, env: dict, redis_url: str, layer: str):
    env = {**env, "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"}
    if layer == "pubsub":
        env["DJANGO_SETTINGS_MODULE"] = "tests.bench.settings_pubsub"
    processes = {}
    if mode == "redis":
        env["REDIS_URL"] = redis_url
        processes["server"] = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--no-worker"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        processes["worker"] = subprocess.Popen(
            [sys.executable, "manage.py", "procrastinate", "worker", "--queues",
             "live-synthetic", "--concurrency", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    else:
        env.pop("REDIS_URL", None)
        processes["server"] = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port), "--concurrency", "30"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return processes


def wait_for_server(port: int, timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server on port {port} did not answer /healthz in {timeout:.0f} s")


def stop(processes: dict) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes.values():
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def run_mode(mode: str, args, database_url: str) -> dict:
    import psutil
    from asgiref.sync import sync_to_async

    from sandbox.live.models import RunEvent
    from sandbox.live.tasks import synthetic_stream_job

    tokens_per_run = int(args.seconds * args.rate)
    user, sandbox, runs = await sync_to_async(make_runs)(args.runs, args.seconds, args.rate)
    port = free_port()
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    processes = start_processes(mode, port, {**os.environ, "DATABASE_URL": database_url},
                                redis_url, args.layer)
    try:
        await asyncio.to_thread(wait_for_server, port)
        # Tickets live 30 s: issue them once the server is up, just before connecting.
        keys = await sync_to_async(tickets)(user, args.runs * args.per_run + args.sandbox_viewers)
        base = f"ws://127.0.0.1:{port}/ws/sandboxes/{sandbox.pk}/"
        watchers = []
        run_ids = {run.pk for run in runs}
        for run in runs:
            for _ in range(args.per_run):
                watchers.append(Watcher(f"{base}runs/{run.pk}/?ticket={keys.pop()}", "run",
                                        {run.pk}, args.compression))
        for _ in range(args.sandbox_viewers):
            watchers.append(Watcher(f"{base}?ticket={keys.pop()}", "sandbox", set(run_ids),
                                    args.compression))
        deadline = time.time() + args.seconds + 120
        tasks = [asyncio.create_task(w.watch(deadline)) for w in watchers]
        await asyncio.gather(*(w.connected.wait() for w in watchers))
        failed = [w.error for w in watchers if w.error]
        if failed:
            raise RuntimeError(f"{len(failed)} clients could not connect: {failed[:3]}")
        start_at = time.time() + 3.0

        def defer():
            for run in runs:
                synthetic_stream_job.defer(session_id=run.sessions.get().pk, tokens=tokens_per_run,
                                           rate=args.rate, start_at=start_at, stamp=True)

        await sync_to_async(defer)()
        measured = {name: psutil.Process(p.pid) for name, p in processes.items()}
        measured["bench clients"] = psutil.Process()
        await asyncio.sleep(max(0.0, start_at - time.time()))
        cpu_before = {name: sum(p.cpu_times()[:2]) for name, p in measured.items()}
        wall_before = time.monotonic()
        sandbox_done = [asyncio.create_task(w.done.wait()) for w in watchers
                        if w.kind == "sandbox"]
        await asyncio.wait(sandbox_done, timeout=args.seconds + 60)
        cpu = {name: (sum(p.cpu_times()[:2]) - cpu_before[name]) /
               (time.monotonic() - wall_before) for name, p in measured.items()}
        everyone = [asyncio.create_task(w.done.wait()) for w in watchers]
        await asyncio.wait(everyone, timeout=30)
        for waiter in sandbox_done + everyone:
            waiter.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        stop(processes)

    def frames_sent():
        return {run.pk: RunEvent.objects.filter(run=run, type="token").count() for run in runs}

    sent = await sync_to_async(frames_sent)()
    expected = sum(sent[r] * len([w for w in watchers if r in w.runs]) for r in sent)
    delivered = sum(sum(w.tokens.values()) for w in watchers)
    latencies = [lat for w in watchers for lat in w.latencies]
    run_latencies = [lat for w in watchers if w.kind == "run" for lat in w.latencies]
    sandbox_latencies = [lat for w in watchers if w.kind == "sandbox" for lat in w.latencies]
    sandbox_messages = [w.messages for w in watchers if w.kind == "sandbox"]
    return {
        "mode": mode, "layer": args.layer if mode == "redis" else "in-memory",
        "compression": args.compression, "runs": len(runs),
        "rate_tokens_per_s": args.rate,
        "tokens_per_run": tokens_per_run, "viewers": len(watchers),
        "frames_sent": sum(sent.values()), "deliveries_expected": expected,
        "deliveries": delivered, "delivered_ratio": delivered / expected if expected else 0,
        "lost": expected - delivered, "duplicated": sum(w.duplicates for w in watchers),
        "viewers_missing_run_completed": sum(not w.done.is_set() for w in watchers),
        "latency_ms_p50": percentile(latencies, 50) * 1000,
        "latency_ms_p99": percentile(latencies, 99) * 1000,
        "latency_ms_max": max(latencies) * 1000 if latencies else float("nan"),
        "run_viewer_p99_ms": percentile(run_latencies, 99) * 1000,
        "sandbox_viewer_p99_ms": percentile(sandbox_latencies, 99) * 1000,
        "latency_samples": len(latencies),
        "sandbox_viewer_messages_mean": sum(sandbox_messages) / len(sandbox_messages),
        "sandbox_viewer_token_events_mean": sum(
            sum(w.tokens.values()) for w in watchers if w.kind == "sandbox")
        / len(sandbox_messages),
        "cpu_cores": {name: round(value, 3) for name, value in cpu.items()},
    }


def report(result: dict) -> list[str]:
    misses = []
    print(f"\n== {result['mode']} mode ({result['layer']}): {result['runs']} runs × "
          f"{result['rate_tokens_per_s']:.0f} "
          f"tokens/s, {result['viewers']} websocket clients ==")
    print(f"  token frames sent (stored)       {result['frames_sent']}")
    print(f"  deliveries expected / received   {result['deliveries_expected']} / "
          f"{result['deliveries']}  (ratio {result['delivered_ratio']:.4f})")
    print(f"  lost / duplicated                {result['lost']} / {result['duplicated']}"
          f"  (viewers without every run.completed: "
          f"{result['viewers_missing_run_completed']})")
    print(f"  latency p50 / p99 / max (ms)     {result['latency_ms_p50']:.1f} / "
          f"{result['latency_ms_p99']:.1f} / {result['latency_ms_max']:.1f}  "
          f"({result['latency_samples']} samples)")
    print(f"  p99 run viewers / sandbox (ms)   {result['run_viewer_p99_ms']:.1f} / "
          f"{result['sandbox_viewer_p99_ms']:.1f}")
    print(f"  sandbox viewer: messages / token events  "
          f"{result['sandbox_viewer_messages_mean']:.0f} / "
          f"{result['sandbox_viewer_token_events_mean']:.0f}")
    print(f"  CPU (cores) {result['cpu_cores']}")
    if result["lost"] or result["duplicated"]:
        misses.append(f"{result['mode']}: {result['lost']} lost, {result['duplicated']} duplicated")
    if not result["latency_ms_p99"] <= GOAL_P99_MS:
        misses.append(f"{result['mode']}: p99 {result['latency_ms_p99']:.1f} ms > {GOAL_P99_MS}")
    if result["cpu_cores"]["server"] >= GOAL_CPU_CORES:
        misses.append(f"{result['mode']}: server CPU {result['cpu_cores']['server']} cores")
    return misses


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=["embedded", "redis", "both"], default="both")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20.0, help="tokens per second per run")
    parser.add_argument("--seconds", type=float, default=20.0, help="streaming time per run")
    parser.add_argument("--per-run", type=int, default=5, help="viewers of each run")
    parser.add_argument("--sandbox-viewers", type=int, default=100)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--layer", choices=["default", "pubsub"], default="default",
                        help="redis mode: the project's RedisChannelLayer, or channels-redis's "
                             "RedisPubSubChannelLayer (tests/bench/settings_pubsub.py)")
    parser.add_argument("--compression", action="store_true",
                        help="clients negotiate permessage-deflate (browsers do; the server then "
                             "compresses every message for every viewer)")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "live.json")
    args = parser.parse_args()

    database_url = bench_database_url()
    setup_django(database_url)
    modes = ["embedded", "redis"] if args.mode == "both" else [args.mode]
    results, misses = [], []
    for mode in modes:
        # The 200 clients share this process: uvloop keeps their own delays out of the
        # latencies they measure (as much as one process on a shared 2-core machine can).
        result = asyncio.run(run_mode(mode, args, database_url), loop_factory=uvloop.new_event_loop)
        results.append(result)
        misses += report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    print(f"\nresults written to {args.json}")
    if misses:
        print("GOALS MISSED: " + "; ".join(misses))
        return 1
    print("All goals met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
