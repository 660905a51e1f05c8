"""One aiohttp session per event loop for the platform's model calls, closed with its loop.

The chat models of OpenAI-compatible endpoints stream through
:mod:`domains.openai_client` over aiohttp. A session holds the connection pool
(a turn reuses the connection, and its TLS session, of the turn before) and
cannot outlive the event loop it was made in, so each loop that calls a model
gets its own: the server's loop, where the embedded worker plays sessions; a
separate worker's; the loop ``async_to_sync`` starts for a sync caller.

A session is closed when its loop shuts down: every owner of a loop here
(``asyncio.run``, ``asyncio.Runner``, asgiref's ``async_to_sync``, uvicorn)
calls ``loop.shutdown_asyncgens()`` before closing it, and that closes the
small async generator (:func:`_closed_at_shutdown`) kept beside each session.
A loop closed without it leaves its session to the garbage collector, which
aiohttp reports as unclosed.
"""

from __future__ import annotations

import asyncio
import ssl
from collections import OrderedDict
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

import aiohttp

MAX_CONNECTIONS = 200  # per loop, every endpoint together


@dataclass
class LoopHTTP:
    """A loop's session and the chat models :mod:`domains.llm` built on it (least
    recently used last), forgotten together when the loop shuts down."""

    session: aiohttp.ClientSession
    closer: AsyncGenerator[None, None]  # the loop keeps only a weak reference to it
    chat_models: OrderedDict = field(default_factory=OrderedDict)


_loops: dict[asyncio.AbstractEventLoop, LoopHTTP] = {}
_tls: ssl.SSLContext | None = None


def for_this_loop() -> LoopHTTP:
    """The running loop's session and its chat models (made on its first call)."""
    loop = asyncio.get_running_loop()
    http = _loops.get(loop)
    if http is not None and not http.session.closed:
        return http
    _forget_closed_loops()
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS, ssl=tls_context()),
        timeout=aiohttp.ClientTimeout(total=None),
        trust_env=True)  # HTTP(S)_PROXY and NO_PROXY, as httpx and the OpenAI SDK honour them
    http = _loops[loop] = LoopHTTP(session, _closed_at_shutdown(loop, session))
    # asend() registers the generator with the loop (asyncio's first-iteration hook);
    # send(None) runs it to its yield at once, so it is open when the loop shuts down.
    try:
        http.closer.asend(None).send(None)
    except StopIteration:
        pass
    return http


def loop_session() -> aiohttp.ClientSession:
    """The running loop's session."""
    return for_this_loop().session


async def _closed_at_shutdown(loop: asyncio.AbstractEventLoop, session: aiohttp.ClientSession
                              ) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        http = _loops.get(loop)
        if http is not None and http.session is session:
            del _loops[loop]
        await session.close()


def _forget_closed_loops() -> None:
    for loop in [loop for loop in list(_loops) if loop.is_closed()]:
        _loops.pop(loop, None)


def tls_context() -> ssl.SSLContext:
    """The process's TLS context (loading the CA bundle takes ~0.1 s of CPU, so once)."""
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls
