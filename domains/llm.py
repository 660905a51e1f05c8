"""The one module that talks to LangChain: every domain model is a LangChain chat model.

Providers: ``openai`` (any OpenAI-compatible endpoint through ``base_url`` —
vLLM, Ollama's ``/v1``, llama.cpp's server, hosted vendors), ``ollama``, and
``scripted`` (offline and deterministic, for demos and tests; a real
``BaseChatModel`` so it goes through the same streaming path).

API keys are read from the environment variable the model names, at call
time, and never stored, returned or logged. Everything a model says is
untrusted text: this module returns it as data and never interprets it.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import httpx
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
)
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

# Imported with this module, not on a process's first call: the import takes ~0.45 s, and in
# a worker it would hold up every session streaming in the event loop at that moment (the
# first run after a worker starts). Ollama's is imported on first use (a rarer provider).
from langchain_openai import ChatOpenAI

from domains.http_sessions import for_this_loop, tls_context
from domains.openai_client import ChatCompletions

RETRY_DELAYS = (0.5, 1.0, 2.0)  # seconds between attempts at a transient failure


class ModelCallError(Exception):
    """A model call failed; ``transient`` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient
        self.partial = ""  # text streamed before the failure
        self.attempts = 1


class ScriptedChatModel(BaseChatModel):
    """An offline chat model that answers by rules on the last user message.

    ``script`` is ``{"rules": [{"match": <regex>, "reply": <text>}], "default": <text>,
    "token_delay": <seconds between streamed words>}``; the first rule whose
    regex (case-insensitive) matches the last user message gives the reply.
    """

    script: dict = {}

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def reply_for(self, messages: list[BaseMessage]) -> str:
        last_user = next((m.content for m in reversed(messages) if m.type == "human"), "")
        for rule in self.script.get("rules", []):
            if re.search(rule["match"], str(last_user), re.IGNORECASE | re.DOTALL):
                return rule["reply"]
        return self.script.get("default", "")

    def _usage(self, messages: list[BaseMessage], reply: str) -> UsageMetadata:
        prompt = sum(count_tokens(str(m.content)) for m in messages)
        completion = count_tokens(reply)
        return UsageMetadata(input_tokens=prompt, output_tokens=completion,
                             total_tokens=prompt + completion)

    def _generate(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs) -> ChatResult:
        reply = self.reply_for(messages)
        message = AIMessage(content=reply, usage_metadata=self._usage(messages, reply))
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages, stop=None, run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs) -> Iterator[ChatGenerationChunk]:
        reply = self.reply_for(messages)
        delay = float(self.script.get("token_delay", 0))
        for piece in _pieces(reply):
            if delay:
                time.sleep(delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=self._usage(messages, reply)))

    async def _astream(self, messages, stop=None,
                       run_manager: AsyncCallbackManagerForLLMRun | None = None,
                       **kwargs) -> AsyncIterator[ChatGenerationChunk]:
        reply = self.reply_for(messages)
        delay = float(self.script.get("token_delay", 0))
        for piece in _pieces(reply):
            if delay:
                await asyncio.sleep(delay)
            yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=self._usage(messages, reply)))


_PIECE = re.compile(r"\s*\S+|\s+$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _pieces(text: str) -> list[str]:
    """Split text the way a tokenizer roughly would: words, and CJK characters one by one."""
    pieces: list[str] = []
    for word in _PIECE.findall(text):
        if _CJK.search(word):
            pieces.extend(word)
        else:
            pieces.append(word)
    return pieces


def count_tokens(text: str) -> int:
    """A rough token count for providers that report none: words plus CJK characters."""
    return len(_pieces(text))


def chat_model(model, *, session: aiohttp.ClientSession | None = None,
               http_client: httpx.Client | None = None) -> BaseChatModel:
    """Build the LangChain chat model for a :class:`~domains.models.DomainModel`.

    Pass ``session`` (an ``aiohttp.ClientSession`` the caller closes; see
    :mod:`domains.http_sessions`) for OpenAI-compatible endpoints: their
    requests then go through the lean client of :mod:`domains.openai_client`
    instead of the OpenAI SDK. ``http_client`` (sync httpx) is only used for
    sync calls; without it langchain-openai builds one per endpoint and timeout.
    """
    if model.provider == "scripted":
        return ScriptedChatModel(script=model.script or {})
    if model.provider == "openai":
        api_key = os.environ.get(model.api_key_env, "") if model.api_key_env else ""
        lean = None if session is None else ChatCompletions(
            session=session, base_url=model.base_url or None, api_key=api_key,
            timeout=model.timeout_seconds)
        return ChatOpenAI(
            base_url=model.base_url or None, model=model.model_name,
            api_key=api_key or "not-needed", temperature=model.temperature,
            max_tokens=model.max_tokens, timeout=model.timeout_seconds, max_retries=0,
            stream_usage=True, http_client=http_client, async_client=lean,
            # No TCP socket options for LangChain's own httpx clients: they would hide
            # HTTP(S)_PROXY from them (LangChain warns about it), and the platform's
            # requests go through the lean client's session, which honours the proxy.
            http_socket_options=(),
            # No per-chunk deadline on top of the whole reply's (astream_reply's
            # timeout_seconds): it rearmed a timer for every token, ~5% of a stream's CPU.
            stream_chunk_timeout=None,
        )
    if model.provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(base_url=model.base_url or None, model=model.model_name,
                          temperature=model.temperature, num_predict=model.max_tokens)
    raise ValueError(f"unknown provider {model.provider!r}")


def to_messages(messages: list[dict]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


@dataclass
class Reply:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    first_token_ms: float | None = None
    latency_ms: float = 0.0
    attempts: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


# Failures to reach an endpoint, or to read its whole answer, that may pass: the
# connection refused, reset or closed early, by aiohttp (the platform's client), httpx
# (Ollama's) or the OpenAI SDK.
_TRANSIENT = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, httpx.ConnectError,
              httpx.RemoteProtocolError, httpx.ReadError, ConnectionError)
_TRANSIENT_NAMES = ("APIConnectionError",)


def _classify(exc: BaseException) -> ModelCallError:
    """Turn a provider exception into a ModelCallError that says whether to retry."""
    if isinstance(exc, ModelCallError):
        return exc
    name = type(exc).__name__
    text = f"{name}: {exc}".strip()
    if isinstance(exc, TimeoutError) or "Timeout" in name:
        return ModelCallError(f"timed out ({text})", transient=False)
    status = getattr(exc, "status_code", None)
    if status is not None:
        return ModelCallError(text, transient=status == 429 or status >= 500)
    if isinstance(exc, (aiohttp.ClientError, httpx.TransportError, OSError)):
        text = f"Connection failed ({text})"
    return ModelCallError(text, transient=isinstance(exc, _TRANSIENT)
                          or name in _TRANSIENT_NAMES)


async def astream_reply(model, messages: list[dict],
                        on_delta: Callable[[str], Awaitable[None]] | None = None,
                        *, retry_delays: tuple[float, ...] = RETRY_DELAYS) -> Reply:
    """Stream one reply from ``model`` to ``messages``, calling ``on_delta`` for each text delta.

    A transient failure (connection refused or reset, HTTP 429 or 5xx) before
    the first delta is retried after each of ``retry_delays``; once text has
    been streamed to viewers a failure is final, so nothing is shown twice.
    The whole reply must arrive within ``model.timeout_seconds``. Raises
    :class:`ModelCallError` with the partial text in ``.partial``.
    """
    return await _astream_reply(_loop_chat_model(model), model, messages, on_delta,
                                retry_delays)


MODELS_PER_LOOP = 32  # chat models kept per event loop (least recently used dropped)


def _loop_chat_model(model) -> BaseChatModel:
    """The LangChain chat model for ``model``, reused by calls in this event loop.

    Building a ``ChatOpenAI`` validates its settings and builds an OpenAI
    client: about 2 ms of CPU, paid on every turn of every session when built
    per call. It holds no state of a conversation, so one serves every call of
    a loop. It is bound to the loop's HTTP session and forgotten with it
    (:mod:`domains.http_sessions`). The key is everything the chat model is
    built from, the API key's digest included, so an edited model or a rotated
    key gets a new one.
    """
    key = _chat_model_key(model)
    if key is None:
        return chat_model(model)
    http = for_this_loop()
    cache = http.chat_models
    lc_model = cache.get(key)
    if lc_model is None:
        lc_model = cache[key] = chat_model(model, session=http.session,
                                           http_client=_sync_http_client())
        while len(cache) > MODELS_PER_LOOP:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return lc_model


def _chat_model_key(model) -> tuple | None:
    """What :func:`chat_model` builds an OpenAI-compatible model from; None for other
    providers (cheap to build, or not bound to the loop's HTTP session)."""
    if model.provider != "openai":
        return None
    api_key = os.environ.get(model.api_key_env, "") if model.api_key_env else ""
    return (model.base_url, model.model_name, model.temperature, model.max_tokens,
            model.timeout_seconds, hashlib.sha256(api_key.encode()).hexdigest())


_sync_client: httpx.Client | None = None


def _sync_http_client() -> httpx.Client:
    """The sync client handed to the chat models built here (they stream through the
    loop's session; a sync client of their own would load the CA bundle again)."""
    global _sync_client
    if _sync_client is None:
        _sync_client = httpx.Client(verify=tls_context(), timeout=None)
    return _sync_client


async def _astream_reply(lc_model, model, messages, on_delta, retry_delays) -> Reply:
    lc_messages = to_messages(messages)
    attempts = 0
    while True:
        attempts += 1
        started = time.perf_counter()
        parts: list[str] = []
        usage: dict = {}
        first_token_ms = None
        try:
            async with asyncio.timeout(model.timeout_seconds):
                async for chunk in lc_model.astream(lc_messages):
                    if chunk.usage_metadata:
                        usage = dict(chunk.usage_metadata)
                    text = chunk.content if isinstance(chunk.content, str) else _text_of(chunk)
                    if not text:
                        continue
                    if first_token_ms is None:
                        first_token_ms = (time.perf_counter() - started) * 1000
                    parts.append(text)
                    if on_delta is not None:
                        await on_delta(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every provider error is classified and reported
            error = _classify(exc)
            error.partial = "".join(parts)
            error.attempts = attempts
            if error.transient and not parts and attempts <= len(retry_delays):
                await asyncio.sleep(retry_delays[attempts - 1])
                continue
            raise error from exc
        text = "".join(parts)
        return Reply(
            text=text,
            prompt_tokens=int(usage.get("input_tokens") or sum(
                count_tokens(m["content"]) for m in messages)),
            completion_tokens=int(usage.get("output_tokens") or count_tokens(text)),
            first_token_ms=first_token_ms,
            latency_ms=(time.perf_counter() - started) * 1000,
            attempts=attempts,
        )


def _text_of(chunk) -> str:
    """Text of a chunk whose content is a list of parts (some providers send that)."""
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part)
                   for part in chunk.content or [])


async def acomplete(model, messages: list[dict]) -> str:
    """The whole reply as one string (judges, paraphrasers); raises ModelCallError."""
    return (await astream_reply(model, messages)).text


async def test_connection(model) -> dict:
    """Send a one-line prompt; report ``{"ok", "latency_ms", "error", "sample"}``."""
    messages = [{"role": "user", "content": "Reply with the single word: ready"}]
    started = time.perf_counter()
    try:
        reply = await astream_reply(model, messages, retry_delays=())
    except ModelCallError as exc:
        return {"ok": False, "latency_ms": None, "error": str(exc), "sample": ""}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            "error": None, "sample": reply.text[:200]}


test_connection.__test__ = False  # a product function, not a pytest test
