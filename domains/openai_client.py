"""A lean client for OpenAI-compatible chat completions, handed to LangChain's ``ChatOpenAI``.

``ChatOpenAI`` talks to an endpoint through ``async_client.create(**payload)``
and accepts the streamed chunks as plain dicts (``langchain_openai`` turns the
OpenAI SDK's objects into dicts itself before converting them). By default that
client is the OpenAI SDK's: httpx underneath, and a pydantic object built for
every streamed chunk, only for LangChain to dump it back into a dict. For a
platform that streams many sessions at once in one process, that is most of
the CPU a token costs. This client sends the request with aiohttp (its HTTP
parser is compiled; httpx reads each block of a stream through httpcore, h11
and anyio, with a timeout scope per read) and hands LangChain the chunks as
dicts. The benchmark's direct calls (``tests/bench/bench_runs.py``: 20
conversations of 3 turns × 40 tokens, 50 tokens/s per stream) took 2.0–2.3 s
of CPU through the SDK, 1.1–1.3 s through this client over httpx, and
0.56–0.63 s over aiohttp (docs/runs.md, *Benchmark*). Everything else stays
LangChain's: the request payload, the conversion of chunks to message chunks,
usage metadata, callbacks, ``astream``.

This client sends the payload as LangChain built it (``extra_body`` merged in)
to ``{base_url}/chat/completions`` with the key as a bearer token, and reads
the Server-Sent Events (:func:`sse_data`). Errors keep what
:func:`domains.llm._classify` needs to decide on a retry: an HTTP error status
is an :class:`EndpointError` with ``status_code``; aiohttp's own exceptions
(connection refused or reset, a body cut short) and timeouts pass through
unchanged; a chunk that is not JSON raises ``json.JSONDecodeError``.

LangChain asks ``with_raw_response.create`` (headers and ``parse()``) for a
request without streaming; that is served too. Not supported, because the
platform never asks for it: structured output through the SDK's
``beta.chat.completions.stream`` (``ChatOpenAI`` would need
``root_async_client``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ERROR_TEXT_LIMIT = 300  # characters of an endpoint's error body kept in the message
MAX_LINE_BYTES = 1 << 20  # a Server-Sent Events line longer than this is refused

logger = logging.getLogger(__name__)


class EndpointError(Exception):
    """The endpoint answered with an error: an HTTP status of 400 or more, an ``error``
    object in the stream (``status_code`` is then the error's code when it is a number),
    or a stream line beyond :data:`MAX_LINE_BYTES`."""

    def __init__(self, message: str, *, status_code: int | None):
        super().__init__(message)
        self.status_code = status_code


class ChatCompletions:
    """What ``ChatOpenAI`` calls as ``async_client``: ``await create(**payload)``.

    ``session`` is the caller's ``aiohttp.ClientSession`` (its connection pool);
    the caller closes it. ``timeout`` (seconds) bounds the connection and each
    wait for data; the whole reply's deadline is the caller's
    (:func:`domains.llm.astream_reply`).
    """

    def __init__(self, *, session: aiohttp.ClientSession, base_url: str | None, api_key: str,
                 timeout: float | None):
        self.session = session
        self._url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
        # What the log names: the address without user info or query, where a key could be.
        parts = urlsplit(self._url)
        self._where = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path,
                                  "", ""))
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout

    @property
    def with_raw_response(self) -> _RawResponses:
        """What LangChain calls for a request without streaming (and for response headers)."""
        return _RawResponses(self)

    async def create(self, **payload: Any) -> ChunkStream | dict:
        """Send one request; a :class:`ChunkStream` of dict chunks when ``stream``, else the
        completion as a dict."""
        return (await self._send(**payload)).parse()

    async def _send(self, *, stream: bool = False, extra_body: dict | None = None,
                    extra_headers: dict | None = None, extra_query: dict | None = None,
                    timeout: float | None = None, **payload: Any) -> RawResponse:
        body = {**payload, **(extra_body or {}), "stream": stream}
        headers = {**self._headers, **(extra_headers or {})}
        if stream:
            headers["Accept"] = "text/event-stream"
        seconds = timeout if timeout is not None else self._timeout
        try:
            response = await self.session.post(
                self._url, json=body, headers=headers, params=extra_query,
                timeout=aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds))
        except (aiohttp.ClientError, OSError) as exc:
            logger.debug("POST %s: %s", self._where, type(exc).__name__)
            raise
        # The address and the outcome only: the headers carry the key.
        logger.debug("POST %s: HTTP %s", self._where, response.status)
        try:
            if response.status >= 400:
                text = (await response.read()).decode("utf-8", "replace")
                raise EndpointError(_error_message(response.status, text),
                                    status_code=response.status)
            if not stream:
                return RawResponse(response, _object(await response.read()))
        except BaseException:
            response.close()
            raise
        return RawResponse(response, ChunkStream(response))


class _RawResponses:
    def __init__(self, completions: ChatCompletions):
        self._completions = completions

    async def create(self, **payload: Any) -> RawResponse:
        return await self._completions._send(**payload)


class RawResponse:
    """The shape of the OpenAI SDK's raw response that LangChain reads: ``headers``,
    ``http_response`` and ``parse()``."""

    def __init__(self, http_response: aiohttp.ClientResponse, value: ChunkStream | dict):
        self.http_response = http_response
        self.headers = http_response.headers
        self._value = value

    def parse(self) -> ChunkStream | dict:
        return self._value


class ChunkStream:
    """The streamed chunks of one completion, as dicts; releases the response when left."""

    def __init__(self, response: aiohttp.ClientResponse):
        self._response = response

    async def __aenter__(self) -> ChunkStream:
        return self

    async def __aexit__(self, *exc) -> None:
        self._response.release()

    async def __aiter__(self):
        try:
            async for data in sse_data(self._response.content):
                if data == "[DONE]":
                    return
                if not data:
                    continue
                chunk = _object(data)
                if chunk.get("error"):
                    error = chunk["error"]
                    code = error.get("code") if isinstance(error, dict) else None
                    raise EndpointError(f"error in the stream: {_describe(error)}",
                                        status_code=code if isinstance(code, int) else None)
                for choice in chunk.get("choices") or ():
                    choice.setdefault("delta", {})  # some servers leave it out of a last chunk
                yield chunk
        finally:
            # Back to the pool when the body was read to its end; closed otherwise.
            self._response.release()


async def sse_data(content: aiohttp.StreamReader) -> AsyncIterator[str]:
    """The data of each Server-Sent Event of a response body, as the HTML standard reads
    an event stream: ``data`` lines joined by newlines, an event dispatched at a blank
    line, comments (``:``) and the other fields (``event``, ``id``, ``retry``) skipped,
    an event cut off by the end of the stream dropped. Lines end with ``\n`` or
    ``\r\n`` (every OpenAI-compatible server's; a lone ``\r`` is not taken as an end).

    Blocks are read as they arrive (``iter_any``), so the events of one block are
    parsed without waiting in between. A line longer than :data:`MAX_LINE_BYTES` is an
    :class:`EndpointError`: an endpoint must not make the platform buffer without end.
    """
    pending = b""
    data: list[bytes] = []
    async for block in content.iter_any():
        pending += block
        if b"\n" in block:
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if line.endswith(b"\r"):
                    line = line[:-1]
                if not line:
                    if data:
                        yield b"\n".join(data).decode("utf-8", "replace")
                        data = []
                    continue
                name, _, value = line.partition(b":")
                if name == b"data":
                    data.append(value[1:] if value.startswith(b" ") else value)
        if len(pending) > MAX_LINE_BYTES:
            raise EndpointError(f"a line of the stream is longer than {MAX_LINE_BYTES} bytes",
                                status_code=None)


def _object(text: str | bytes) -> dict:
    """A JSON object from the endpoint; raises ``json.JSONDecodeError`` (as garbage) otherwise."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise json.JSONDecodeError("expected a JSON object", str(text), 0)
    return value


def _describe(error: Any) -> str:
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:ERROR_TEXT_LIMIT]
    return str(error)[:ERROR_TEXT_LIMIT]


def _error_message(status: int, text: str) -> str:
    """``Error code: 503 - overloaded, try again``: the status and the endpoint's own words."""
    try:
        detail = _describe(json.loads(text).get("error") or text)
    except (ValueError, AttributeError):
        detail = text[:ERROR_TEXT_LIMIT]
    return f"Error code: {status}" + (f" - {detail}" if detail.strip() else "")
