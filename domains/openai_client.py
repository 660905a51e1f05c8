"""A lean client for OpenAI-compatible chat completions, handed to LangChain's ``ChatOpenAI``.

``ChatOpenAI`` talks to an endpoint through ``async_client.create(**payload)``
and accepts the streamed chunks as plain dicts (``langchain_openai`` turns the
OpenAI SDK's objects into dicts itself before converting them). By default that
client is the OpenAI SDK's, which builds a pydantic object for every streamed
chunk, only for LangChain to dump it back into a dict. For a platform that
streams many sessions at once in one process, that is most of the CPU a token
costs: 20 conversations of 3 turns × 40 tokens took 1.50 s of CPU through the
SDK against 0.85 s through this client (``tests/bench/bench_runs.py``'s direct
calls, 50 tokens/s per stream; 0.90 against 0.37 s when the endpoint streams
without pause). Everything else stays LangChain's: the request payload, the
conversion of chunks to message chunks, usage metadata, callbacks, ``astream``.

This client sends the payload as LangChain built it (``extra_body`` merged in)
to ``{base_url}/chat/completions`` with the key as a bearer token, and reads
the Server-Sent Events with ``httpx-sse``. Errors keep what
:func:`domains.llm._classify` needs to decide on a retry: an HTTP error status
is an :class:`EndpointError` with ``status_code``; httpx's own exceptions
(connection refused or reset, a timeout) pass through unchanged; a chunk that
is not JSON raises ``json.JSONDecodeError``.

LangChain asks ``with_raw_response.create`` (headers and ``parse()``) for a
request without streaming; that is served too. Not supported, because the
platform never asks for it: structured output through the SDK's
``beta.chat.completions.stream`` (``ChatOpenAI`` would need
``root_async_client``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from httpx_sse import EventSource

DEFAULT_BASE_URL = "https://api.openai.com/v1"
ERROR_TEXT_LIMIT = 300  # characters of an endpoint's error body kept in the message


class EndpointError(Exception):
    """The endpoint answered with an error: an HTTP status of 400 or more, or an ``error``
    object in the stream (``status_code`` is then the error's code when it is a number)."""

    def __init__(self, message: str, *, status_code: int | None):
        super().__init__(message)
        self.status_code = status_code


class ChatCompletions:
    """What ``ChatOpenAI`` calls as ``async_client``: ``await create(**payload)``."""

    def __init__(self, *, client: httpx.AsyncClient, base_url: str | None, api_key: str,
                 timeout: float | None):
        self._client = client
        self._url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/chat/completions"
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
        request = self._client.build_request(
            "POST", self._url, json=body, headers=headers, params=extra_query,
            timeout=timeout if timeout is not None else self._timeout)
        response = await self._client.send(request, stream=True)
        try:
            if response.status_code >= 400:
                await response.aread()
                raise EndpointError(_error_message(response), status_code=response.status_code)
            if not stream:
                await response.aread()
                return RawResponse(response, _object(response.text))
        except BaseException:
            await response.aclose()
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

    def __init__(self, http_response: httpx.Response, value: ChunkStream | dict):
        self.http_response = http_response
        self.headers = http_response.headers
        self._value = value

    def parse(self) -> ChunkStream | dict:
        return self._value


class ChunkStream:
    """The streamed chunks of one completion, as dicts; closes the response when left."""

    def __init__(self, response: httpx.Response):
        self._response = response

    async def __aenter__(self) -> ChunkStream:
        return self

    async def __aexit__(self, *exc) -> None:
        await self._response.aclose()

    async def __aiter__(self):
        try:
            async for event in EventSource(self._response).aiter_sse():
                if event.data == "[DONE]":
                    return
                if not event.data:
                    continue
                chunk = _object(event.data)
                if chunk.get("error"):
                    error = chunk["error"]
                    code = error.get("code") if isinstance(error, dict) else None
                    raise EndpointError(f"error in the stream: {_describe(error)}",
                                        status_code=code if isinstance(code, int) else None)
                for choice in chunk.get("choices") or ():
                    choice.setdefault("delta", {})  # some servers leave it out of a last chunk
                yield chunk
        finally:
            await self._response.aclose()


def _object(text: str) -> dict:
    """A JSON object from the endpoint; raises ``json.JSONDecodeError`` (as garbage) otherwise."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise json.JSONDecodeError("expected a JSON object", text, 0)
    return value


def _describe(error: Any) -> str:
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:ERROR_TEXT_LIMIT]
    return str(error)[:ERROR_TEXT_LIMIT]


def _error_message(response: httpx.Response) -> str:
    """``Error code: 503 - overloaded, try again``: the status and the endpoint's own words."""
    try:
        detail = _describe(json.loads(response.text).get("error") or response.text)
    except (ValueError, AttributeError):
        detail = response.text[:ERROR_TEXT_LIMIT]
    return f"Error code: {response.status_code}" + (f" - {detail}" if detail.strip() else "")
