"""Runs executed by real worker processes: a killed worker loses nothing, and `serve` runs the
worker in-process as `make run` does."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from django.db import connection
from rest_framework.authtoken.models import Token

from domains.models import DomainModel
from sandbox.runs.models import Run, Turn
from sandbox.runs.recovery import recover_stalled_sessions
from sandbox.runs.services import run_start
from scenarios.services import pack_import
from tests.conftest import free_port
from tests.support.aio import run_sync

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]

LONG_PACK = """
pack: {id: long, title: Long, vertical: medical, language: en}
scenarios:
  - id: five-turns
    title: Five questions
    turns:
""" + "".join(f"      - user: Question number {i} about blood pressure?\n        expect: answer\n"
              for i in range(5))


def test_database_url() -> str:
    settings = connection.settings_dict
    query = urlencode({"host": settings["HOST"]}) if settings["HOST"] else ""
    host = "" if settings["HOST"].startswith("/") else settings["HOST"]
    return f"postgresql://{settings['USER']}@{host}/{settings['NAME']}?{query}"


test_database_url.__test__ = False


def child_env(**extra) -> dict:
    env = {**os.environ, "DATABASE_URL": test_database_url(), "DJANGO_SETTINGS_MODULE":
           "sandbox.settings", "LOG_LEVEL": "WARNING", **extra}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def start_worker() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--concurrency", "4",
         "--fetch-job-polling-interval", "0.2"],
        cwd=ROOT, env=child_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def long_run(sandbox_a, alice):
    pack_import(sandbox=sandbox_a, text=LONG_PACK, filename="long.yaml", actor=alice)
    model = DomainModel.objects.create(
        sandbox=sandbox_a, name="steady", provider="scripted", timeout_seconds=30,
        script={"default": " ".join(["steady"] * 12), "token_delay": 0.05})
    scenarios = list(sandbox_a.scenarios.filter(scenario_id="five-turns"))
    return run_start(sandbox=sandbox_a, started_by=alice, models=[model], scenarios=scenarios)


def test_a_killed_worker_loses_no_turn_and_the_run_resumes_without_duplicates(long_run):
    worker = start_worker()
    try:
        try:
            wait_for(lambda: Turn.objects.filter(run=long_run).count() >= 2, 60, "two turns")
        except AssertionError:
            worker.kill()
            raise AssertionError(worker.stderr.read().decode()[-3000:]) from None
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
    before = {t.index: (t.pk, t.completed_at, t.assistant_message)
              for t in Turn.objects.filter(run=long_run)}
    assert 2 <= len(before) < 5, "the worker should die in mid-run"

    time.sleep(1.2)
    retried = run_sync(recover_stalled_sessions(seconds_since_heartbeat=1))
    assert len(retried) == 1
    worker = start_worker()
    try:
        wait_for(lambda: Run.objects.get(pk=long_run.pk).status == "completed", 60,
                 "the resumed run to complete")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=15)
    turns = list(Turn.objects.filter(run=long_run).order_by("index"))
    assert [t.index for t in turns] == [0, 1, 2, 3, 4]
    for index, (pk, completed_at, text) in before.items():
        assert (turns[index].pk, turns[index].completed_at, turns[index].assistant_message) == (
            pk, completed_at, text)
    run = Run.objects.get(pk=long_run.pk)
    assert run.turns_done == 5 == run.turns_total


def test_serve_runs_jobs_in_process_and_stops_cleanly_on_sigterm(long_run, alice):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=ROOT,
        env=child_env(SANDBOX_INPROCESS_WORKER="1"), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: _healthy(base), 30, "the server to answer /healthz")
        token, _ = Token.objects.get_or_create(user=alice)
        headers = {"Authorization": f"Token {token.key}"}
        url = f"{base}/api/v1/sandboxes/{long_run.sandbox_id}/runs/{long_run.pk}/"
        wait_for(lambda: httpx.get(url, headers=headers).json()["status"] == "completed", 60,
                 "the in-process worker to finish the run")
        assert httpx.get(url, headers=headers).json()["progress"] == {"done": 5, "total": 5}
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=20)
    assert server.returncode == 0, output
    assert "Stopped." in output


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
