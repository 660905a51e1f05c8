"""Benchmark: latency of ``GET .../rating-queue/next/`` with 50 concurrent experts.

Run: ``.venv/bin/python tests/bench/bench_ratings_next.py`` from the repository root
(``make bench`` runs it). A scratch database ``sandbox_bench_ratings`` is created on the
same PostgreSQL (the embedded one unless DATABASE_URL is set) and dropped afterwards; the
platform's own data is never touched. The server is the real one: ``manage.py serve
--no-worker`` in a subprocess, spoken to over HTTP by 50 experts (asyncio + httpx, each
with its own API token). Each expert loops: ``next`` (timed), then submits a rating
(timed separately), then pauses.

The server runs as configured by default, with psycopg's connection pool
(``DATABASES["default"]["OPTIONS"]["pool"]``, what Django recommends under ASGI), through
three phases, and once more without the pool (``DATABASE_POOL=0``: a new PostgreSQL
connection, so a new backend process, per request) for comparison:

- "human pace": a pause of 3-10 s between items. Rating an item means reading a
  conversation and its answer(s) and scoring several objectives; 3-10 s is a fast expert
  using the page's number keys (~8 ``next`` requests/s for 50 experts). The goal,
  p95 <= 50 ms, is checked here: it is the load that 50 concurrent experts put on the
  server.
- "1 s pace": a pause of 0.5-1.5 s, ten times that load (~45 ``next``/s plus as many
  submissions), no human rates this fast: a stress figure, reported against the same goal.
- "flat out": no pause, the server's saturation point, for information.

Exit status 1 when the human-pace p95 misses the goal.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

GOAL_MS = 50.0
EXPERTS = 50
HUMAN_SECONDS = 60.0
FAST_SECONDS = 20.0
FLAT_SECONDS = 10.0
BENCH_DB = "sandbox_bench_ratings"


def _scratch_url() -> tuple[str, str]:
    """(admin URL of the server's own database, URL of the scratch database)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        from sandbox import embedded_db

        url = embedded_db.database_url(ROOT)
    parts = urlsplit(url)
    return url, urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def _recreate_database(admin_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def _seed() -> tuple[int, list[str]]:
    """Migrate the scratch database and fill it: one sandbox, 3 models, 1,200 items, 50
    experts. Returns the sandbox id and the experts' API tokens."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
    call_command("migrate", verbosity=0)
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    from sandbox.core import services as core
    from sandbox.ratings.services import rating_config_update, rating_items_create_for_run
    from tests.ratings.conftest import make_models, make_run

    User = get_user_model()
    operator = User.objects.create_user("bench-operator", password=secrets.token_hex(8))
    sandbox = core.sandbox_create(created_by=operator, name="Bench", vertical="medical",
                                  status="active")
    rating_config_update(sandbox=sandbox, actor=operator, gold_rate=0.0)
    models = make_models(sandbox, ["Bench-A", "Bench-B", "Bench-C"])
    scenarios = {f"scenario-{i}": [f"Question {i}.1", f"Question {i}.2"] for i in range(200)}
    run = make_run(sandbox, models, scenarios=scenarios)
    created = rating_items_create_for_run(run=run, actor=operator)
    tokens = []
    for n in range(EXPERTS):
        name = f"bench-expert-{n}"
        User.objects.create_user(name, password=secrets.token_hex(8))
        core.membership_add(sandbox=sandbox, actor=operator, username=name, role="expert")
        tokens.append(Token.objects.create(user=User.objects.get(username=name)).key)
    print(f"seeded {created:,} rating items (k = {sandbox.raters_per_item}) and "
          f"{EXPERTS} experts")
    return sandbox.pk, tokens


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _values(item: dict) -> dict:
    rubric = item["rubric"]
    if item["kind"] == "pair":
        return {key: random.randint(-3, 3) for key in rubric["preference_keys"]}
    return {o["key"]: random.choice([p["value"] for p in o["points"]])
            for o in rubric["objectives"]}


async def _expert(client, base: str, token: str, until: float, pause: tuple[float, float],
                  next_ms: list[float], submit_ms: list[float], empty: list[int]) -> None:
    headers = {"Authorization": f"Token {token}"}
    while time.monotonic() < until:
        t0 = time.perf_counter()
        response = await client.get(f"{base}rating-queue/next/", headers=headers)
        next_ms.append((time.perf_counter() - t0) * 1000)
        if response.status_code == 204:
            empty.append(1)
            return
        response.raise_for_status()
        item = response.json()
        t0 = time.perf_counter()
        saved = await client.post(f"{base}ratings/", headers=headers,
                                  json={"item": item["id"], "values": _values(item)})
        submit_ms.append((time.perf_counter() - t0) * 1000)
        saved.raise_for_status()
        if pause[1]:
            await asyncio.sleep(random.uniform(*pause))


async def _calibrate(base: str, tokens: list[str], seconds: float = 5.0) -> None:
    """The same concurrency on the lightest sandbox endpoint (GET rubric/): the floor that
    the server, the machine and the authentication set for any request."""
    import httpx

    timings: list[float] = []
    until = time.monotonic() + seconds

    async def loop(client, token):
        while time.monotonic() < until:
            t0 = time.perf_counter()
            response = await client.get(f"{base}rubric/",
                                        headers={"Authorization": f"Token {token}"})
            response.raise_for_status()
            timings.append((time.perf_counter() - t0) * 1000)

    limits = _limits()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(loop(client, token) for token in tokens))
    print(f"  baseline  GET rubric/ flat out: {len(timings) / seconds:5.1f}/s  "
          f"p50 {_percentile(timings, 50):6.1f} ms  p95 {_percentile(timings, 95):6.1f} ms")


def _limits():
    """One keep-alive connection per expert, dropped by the client after 2 s idle: uvicorn
    closes idle connections after 5 s, and a client that reuses one just as the server
    closes it gets a ReadError (experts at the human pace idle up to 10 s)."""
    import httpx

    return httpx.Limits(max_connections=EXPERTS + 10, max_keepalive_connections=EXPERTS + 10,
                        keepalive_expiry=2.0)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def _phase(label: str, base: str, tokens: list[str], seconds: float,
                 pause: tuple[float, float]) -> float:
    import httpx

    next_ms: list[float] = []
    submit_ms: list[float] = []
    empty: list[int] = []
    limits = _limits()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        # stagger the start over one pause so the experts do not arrive in lockstep
        until = time.monotonic() + seconds
        tasks = []
        for token in tokens:
            await asyncio.sleep(pause[1] / len(tokens) if pause[1] else 0)
            tasks.append(asyncio.create_task(_expert(client, base, token, until, pause,
                                                     next_ms, submit_ms, empty)))
        await asyncio.gather(*tasks)
    p50, p95, p99 = (_percentile(next_ms, q) for q in (50, 95, 99))
    print(f"  {label:<10} next: {len(next_ms):5d} requests ({len(next_ms) / seconds:5.1f}/s)  "
          f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms  max {max(next_ms):6.1f} ms"
          f"   | submit p95 {_percentile(submit_ms, 95):6.1f} ms"
          + (f"   ({len(empty)} experts ran out of items)" if empty else ""))
    return p95


def main() -> int:
    """Seed a scratch database, serve it, drive 50 experts, print latency figures."""
    admin_url, bench_url = _scratch_url()
    _recreate_database(admin_url)
    os.environ["DATABASE_URL"] = bench_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings")
    server = None
    try:
        sandbox_id, tokens = _seed()
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": bench_url, "LOG_LEVEL": "WARNING"}
        results = {}
        for pooled in (False, True):
            server = _serve(port, env, pooled)
            base = f"http://127.0.0.1:{port}/api/v1/sandboxes/{sandbox_id}/"
            print(f"{EXPERTS} concurrent experts against manage.py serve (uvicorn, one process), "
                  + ("as configured (a psycopg connection pool)" if pooled
                     else "with DATABASE_POOL=0 (a new database connection per request)"))
            asyncio.run(_calibrate(base, tokens))
            if pooled:
                results["human"] = asyncio.run(_phase("human pace", base, tokens,
                                                      HUMAN_SECONDS, (3.0, 10.0)))
            results[pooled] = asyncio.run(_phase("1 s pace", base, tokens, FAST_SECONDS,
                                                 (0.5, 1.5)))
            if pooled:
                asyncio.run(_phase("flat out", base, tokens, FLAT_SECONDS, (0.0, 0.0)))
            _stop(server)
            server = None
    finally:
        if server is not None:
            _stop(server)
        from django.db import connections

        connections.close_all()
        _recreate_database(admin_url, drop_only=True)
    human, fast = results["human"], results[True]
    print(f"  human pace next p95 {human:.1f} ms (goal <= {GOAL_MS:.0f} ms: "
          f"{'met' if human <= GOAL_MS else 'MISSED'}); at the 1 s pace {fast:.1f} ms with "
          f"the pool ({'within' if fast <= GOAL_MS else 'over'} the goal), "
          f"{results[False]:.1f} ms without")
    return 0 if human <= GOAL_MS else 1


def _serve(port: int, env: dict, pooled: bool) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--no-worker", "--host", "127.0.0.1",
         "--port", str(port)], cwd=ROOT, env={**env, "DATABASE_POOL": "1" if pooled else "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    _wait_for(f"http://127.0.0.1:{port}/healthz", server)
    return server


def _stop(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=20)


def _wait_for(url: str, server: subprocess.Popen) -> None:
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited: " + server.stderr.read().decode()[-2000:])
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass  # not listening yet
        time.sleep(0.2)
    raise RuntimeError("the server did not answer /healthz within 60 s")


if __name__ == "__main__":
    raise SystemExit(main())
