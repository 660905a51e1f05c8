"""The platform's HTTP sessions for model calls: one per event loop, its connections reused,
closed when the loop shuts down; and how aiohttp's failures are classified for retries."""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
import warnings
import weakref

import aiohttp
import pytest
from asgiref.sync import async_to_sync

from domains import http_sessions
from domains.http_sessions import loop_session
from domains.llm import _classify, astream_reply
from tests.llm.conftest import openai_model

QUESTION = [{"role": "user", "content": "hello"}]


async def test_a_loop_keeps_one_session_and_reuses_its_connection(endpoint):
    first = loop_session()
    assert loop_session() is first
    await astream_reply(openai_model(endpoint), QUESTION)
    await astream_reply(openai_model(endpoint), QUESTION)
    assert loop_session() is first
    # The second call came over the first one's connection (same client address).
    assert endpoint.clients[-1] == endpoint.clients[-2]


def test_each_loop_gets_its_own_session_closed_when_the_loop_shuts_down(endpoint):
    async def call() -> aiohttp.ClientSession:
        await astream_reply(openai_model(endpoint), QUESTION)
        return loop_session()

    first = asyncio.run(call())
    second = asyncio.run(call())
    assert first is not second
    assert first.closed and second.closed
    assert first not in [http.session for http in http_sessions._loops.values()]


def test_a_sync_caller_s_loop_closes_its_session_too(endpoint):
    sessions = []

    async def call():
        await astream_reply(openai_model(endpoint), QUESTION)
        sessions.append(loop_session())

    async_to_sync(call)()  # in a loop of its own, as a sync view or command calls a model
    assert len(sessions) == 1 and sessions[0].closed


def test_nothing_of_a_finished_loop_is_kept_or_reported_unclosed(endpoint, caplog):
    caplog.set_level(logging.WARNING, logger="asyncio")
    loops = []

    async def call():
        await astream_reply(openai_model(endpoint), QUESTION)
        loops.append(weakref.ref(asyncio.get_running_loop()))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            asyncio.run(call())
        thread = threading.Thread(target=lambda: asyncio.run(call()))
        thread.start()
        thread.join()
        gc.collect()
    # The loops, their sessions and the chat models built on them are gone...
    assert len(loops) == 4 and [ref() for ref in loops] == [None] * 4
    # ...and went closed.
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
    assert [r.getMessage() for r in caplog.records if "Unclosed" in r.getMessage()] == []


def test_a_loop_closed_without_shutting_down_is_forgotten(endpoint):
    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(_session_of_a_call(endpoint))
    finally:
        loop.run_until_complete(session.close())  # what the owner of such a loop must do
        loop.close()
    asyncio.run(_session_of_a_call(endpoint))  # another loop's first call sweeps it
    assert loop not in http_sessions._loops


async def _session_of_a_call(endpoint) -> aiohttp.ClientSession:
    await astream_reply(openai_model(endpoint), QUESTION)
    return loop_session()


async def test_the_proxy_of_the_environment_is_used(endpoint, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{endpoint.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    model = openai_model(endpoint, base_url="http://models.example.invalid/v1")
    reply = await astream_reply(model, QUESTION, retry_delays=())
    assert reply.text == "You asked: hello"
    assert endpoint.headers[-1]["host"] == "models.example.invalid"


@pytest.mark.parametrize(("error", "transient", "words"), [
    (aiohttp.ServerDisconnectedError(), True, "Connection failed (ServerDisconnectedError"),
    (aiohttp.ClientPayloadError("Response payload is not completed"), True,
     "Connection failed (ClientPayloadError: Response payload is not completed"),
    (aiohttp.ClientOSError(104, "Connection reset by peer"), True, "Connection failed"),
    (ConnectionResetError(104, "Connection reset by peer"), True, "Connection failed"),
    (aiohttp.SocketTimeoutError("Timeout on reading data from socket"), False, "timed out"),
    (aiohttp.ConnectionTimeoutError("Connection timeout"), False, "timed out"),
    (aiohttp.InvalidURL("nowhere"), False, "Connection failed (InvalidURL"),
    (ValueError("not a stream"), False, "ValueError: not a stream"),
])
def test_aiohttp_failures_are_classified_for_retries(error, transient, words):
    classified = _classify(error)
    assert classified.transient is transient
    assert words in str(classified)
