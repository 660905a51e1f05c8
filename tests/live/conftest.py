"""Live-monitoring fixtures: runs to watch, real websocket clients, code run in the server.

The ASGI server (``asgi_server``) runs in a thread of the test process with the
in-memory channel layer, exactly as the embedded default: publishers must run
in the server's event loop, which :func:`in_server` arranges.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from domains.models import DomainModel
from sandbox.runs.models import Run, Session
from scenarios.models import Scenario, ScenarioPack
from tests.browser.conftest import browser, page  # noqa: F401  (Playwright fixtures)


def make_scenario(sandbox, scenario_id="triage-1", turns=1) -> Scenario:
    pack, _ = ScenarioPack.objects.get_or_create(sandbox=sandbox, pack_id="live-pack",
                                                 defaults={"source": "pack: live"})
    spec = {"id": scenario_id, "title": scenario_id, "vertical": sandbox.vertical,
            "language": "en", "turns": [{"id": f"t{i}", "user": f"Question {i}"}
                                        for i in range(turns)]}
    return Scenario.objects.create(sandbox=sandbox, pack=pack, scenario_id=scenario_id,
                                   title=scenario_id, vertical=sandbox.vertical, language="en",
                                   spec=spec)


def make_model(sandbox, name="medbot", **fields) -> DomainModel:
    fields.setdefault("provider", "scripted")
    fields.setdefault("script", {"rules": [], "default": "Please see a doctor."})
    return DomainModel.objects.create(sandbox=sandbox, name=name, **fields)


def make_run(sandbox, *, sessions=1, turns=1, user=None) -> Run:
    """A queued run with ``sessions`` sessions of ``turns`` turns (no job deferred)."""
    run = Run.objects.create(sandbox=sandbox, started_by=user, turns_total=sessions * turns)
    model = DomainModel.objects.filter(sandbox=sandbox).first() or make_model(sandbox)
    for i in range(sessions):
        scenario = make_scenario(sandbox, f"scenario-{run.pk}-{i}", turns)
        Session.objects.create(run=run, sandbox=sandbox, scenario=scenario, model=model,
                               spec=scenario.spec, variant_id=scenario.scenario_id)
    return run


@dataclass
class World:
    a: object
    b: object
    run_a: Run
    run_b: Run
    people: dict


@pytest.fixture
def world(db, alice, bob, rita, charlie, olga, sandbox_a, sandbox_b):
    return World(a=sandbox_a, b=sandbox_b, run_a=make_run(sandbox_a, user=alice),
                 run_b=make_run(sandbox_b, user=charlie),
                 people={"operator": alice, "expert": bob, "regulator": rita, "outsider": olga,
                         "other": charlie, "anonymous": None})


def in_server(server, coro, timeout=60):
    """Run ``coro`` in the ASGI server's event loop (where the in-memory layer lives)."""
    loop = server.server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


def start_in_server(server, coro):
    """Start ``coro`` in the server's loop; return its concurrent future."""
    loop = server.server.servers[0].get_loop()
    return asyncio.run_coroutine_threadsafe(coro, loop)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def ticket_for(user) -> str:
    from sandbox.live.services import ws_ticket_issue

    key, _ticket = ws_ticket_issue(user=user)
    return key


def open_ws(server, path, *, user=None, auth="session", origin="same", since=None, ticket=None):
    """Open a real websocket to ``server``; raise InvalidStatus when refused."""
    params = {}
    headers = {}
    if since is not None:
        params["since"] = since
    if auth == "ticket" and user is not None and ticket is None:
        ticket = ticket_for(user)
    if ticket is not None:
        params["ticket"] = ticket
    if auth == "session" and user is not None:
        headers["Cookie"] = session_cookie(user)
    query = "?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""
    origin_header = {"same": server.url, None: None}.get(origin, origin)
    if auth == "ticket" and origin == "same":
        origin_header = None  # scripts send no Origin
    return connect(server.ws_url + path + query, origin=origin_header,
                   additional_headers=headers, open_timeout=10)


def refusal(server, path, **kwargs) -> int:
    """The HTTP status with which the server refuses the handshake (101 if it accepts)."""
    try:
        with open_ws(server, path, **kwargs):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def receive_until(ws, stop, timeout=20.0) -> tuple[list[dict], int]:
    """Collect events until ``stop(event)`` is true; return (events, websocket messages)."""
    events, messages = [], 0
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"timed out; got {len(events)} events: {events[-3:]}")
        data = json.loads(ws.recv(timeout=remaining))
        messages += 1
        assert isinstance(data, list), data
        for event in data:
            events.append(event)
            if stop(event):
                return events, messages


def api_post(server, user, path, body=None) -> httpx.Response:
    """A real HTTP request to the ASGI server (so that its broadcasts start in its loop)."""
    token, _ = Token.objects.get_or_create(user=user)
    return httpx.post(server.url + path, json=body or {}, timeout=20,
                      headers={"Authorization": f"Token {token.key}"})
