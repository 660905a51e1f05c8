"""With REDIS_URL the live stream crosses processes: a separate worker process plays a real
run and publishes through channels-redis; the ASGI server forwards it to a websocket client."""

import os
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
from django.db import connection

from sandbox.runs.models import Turn
from tests.live.conftest import open_ws, receive_until
from tests.live.engine_support import scripted_model, start_real_run

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
ROOT = Path(__file__).resolve().parents[2]


def database_url_of_tests() -> str:
    db = connection.settings_dict
    query = urlencode({"host": db["HOST"]}) if db["HOST"] else ""
    user = db["USER"] or "postgres"
    return f"postgresql://{user}@/{db['NAME']}" + (f"?{query}" if query else "")



@pytest.fixture
def redis_layer(settings):
    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.exceptions.ConnectionError:
        pytest.fail(f"no Redis at {REDIS_URL}: the Redis-mode test needs the local Redis")
    # The same layer the settings choose when REDIS_URL is set (the worker process uses those).
    settings.CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]}}}
    return REDIS_URL


@pytest.fixture
def worker_process(redis_layer):
    env = {**os.environ, "DATABASE_URL": database_url_of_tests(), "REDIS_URL": redis_layer,
           "LOG_LEVEL": "WARNING"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "procrastinate", "worker", "--queues", "runs",
         "--concurrency", "4"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_tokens_from_a_separate_worker_process_reach_the_websocket(asgi_server, world,
                                                                   worker_process):
    model = scripted_model(world.a, name="remote", reply="Take at most four grams a day, "
                           "and ask your pharmacist.", token_delay=0.05)
    with open_ws(asgi_server, f"/ws/sandboxes/{world.a.pk}/",
                 user=world.people["regulator"]) as ws:
        run, _sessions = start_real_run(world.a, world.people["operator"], model)
        try:
            events, _ = receive_until(ws, lambda e: e["type"] == "run.completed", timeout=60)
        except (AssertionError, TimeoutError):
            worker_process.terminate()
            output = worker_process.communicate(timeout=10)[0]
            raise AssertionError(f"no run.completed; worker said:\n{output[-3000:]}") from None
    assert worker_process.poll() is None, "the worker is a separate, still running process"
    mine = [e for e in events if e["run"] == run.pk]
    assert [e["seq"] for e in mine] == list(range(1, len(mine) + 1))
    tokens = [e for e in mine if e["type"] == "token"]
    assert len(tokens) > 1
    assert "".join(e["text"] for e in tokens) == Turn.objects.get(run=run).assistant_message
    assert mine[-1]["status"] == "completed"
