"""A small OpenAI-compatible chat endpoint for tests and benchmarks, served over real HTTP.

It streams Server-Sent Events like ``/v1/chat/completions`` does. Its
behaviour is chosen per request by a directive in the last user message,
so one server can play every case a test needs:

- ``[[fail-first:N]]`` answer HTTP 503 to the first N requests carrying this directive;
- ``[[drop-after:N]]`` send N deltas, then cut the connection (a failure in mid-stream);
- ``[[garbage]]`` send a line that is not JSON;
- ``[[stall]]`` send one delta, then nothing for a minute (a timeout);
- ``[[slow:S]]`` wait S seconds between deltas (default: the server's ``delay``);
- ``[[error-event]]`` send one delta, then an ``error`` object in the stream (its message
  repeats the question, so a test can put hostile text in it);
- ``[[keepalive]]`` send an SSE comment line (``: keepalive``) before every delta.

A request with ``"stream": false`` gets the whole completion as one JSON object.

Otherwise it replies ``reply`` (default: an echo of the question) word by word.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
import time

import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


DIRECTIVE = re.compile(r"\[\[([a-z-]+)(?::([0-9.]+))?\]\]")


class OpenAIStub:
    def __init__(self, *, reply: str | None = None, delay: float = 0.0):
        self.reply = reply
        self.delay = delay
        self.requests: list[dict] = []
        self.headers: list[dict[str, str]] = []  # each request's headers, names in lower case
        self.clients: list[tuple[str, int]] = []  # each request's client address (its connection)
        self.failures_served: dict[str, int] = {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="off", interface="asgi3")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> OpenAIStub:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("stub endpoint did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)

    async def app(self, scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] != "/v1/chat/completions":
            await self._json(send, 404, {"error": {"message": "not found"}})
            return
        request = json.loads(body or b"{}")
        self.requests.append(request)
        self.clients.append(tuple(scope["client"]))
        self.headers.append({name.decode().lower(): value.decode()
                             for name, value in scope["headers"]})
        last = next((m["content"] for m in reversed(request.get("messages", []))
                     if m["role"] == "user"), "")
        directives = {name: value for name, value in DIRECTIVE.findall(last)}
        if "fail-first" in directives:
            key = last
            served = self.failures_served.get(key, 0)
            if served < int(float(directives["fail-first"])):
                self.failures_served[key] = served + 1
                await self._json(send, 503, {"error": {"message": "overloaded, try again"}})
                return
        text = self.reply if self.reply is not None else f"You asked: {DIRECTIVE.sub('', last)}"
        words = re.findall(r"\s*\S+", text) or [""]
        delay = float(directives.get("slow") or self.delay)
        prompt_tokens = sum(len(m["content"].split()) for m in request.get("messages", []))
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": len(words),
                 "total_tokens": prompt_tokens + len(words)}
        if request.get("stream") is False:
            await self._json(send, 200, {
                "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()),
                "model": request.get("model", "stub"), "usage": usage,
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "".join(words)}}]})
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream")]})
        created = int(time.time())

        async def event(payload):
            await send({"type": "http.response.body", "more_body": True,
                        "body": b"data: " + json.dumps(payload).encode() + b"\n\n"})

        def chunk(content=None, finish=None):
            delta = {} if content is None else {"content": content}
            return {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
                    "model": request.get("model", "stub"),
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        await event({**chunk(), "choices": [{"index": 0, "delta": {"role": "assistant",
                                                                    "content": ""},
                                             "finish_reason": None}]})
        for i, word in enumerate(words):
            if "drop-after" in directives and i >= int(float(directives["drop-after"])):
                # Cut the connection in mid-stream without finishing the response.
                raise ConnectionResetError("stub dropped the stream")
            if "garbage" in directives and i == 1:
                await send({"type": "http.response.body", "more_body": True,
                            "body": b"data: {this is not json\n\n"})
            if "stall" in directives and i == 1:
                await asyncio.sleep(60)
            if "error-event" in directives and i == 1:
                message = f"the model crashed on: {DIRECTIVE.sub('', last)}"
                await event({"error": {"message": message, "type": "server_error"}})
                break
            if delay:
                await asyncio.sleep(delay)
            if "keepalive" in directives:
                await send({"type": "http.response.body", "more_body": True,
                            "body": b": keepalive\n\n"})
            await event(chunk(word))
        await event(chunk(finish="stop"))
        await event({"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": created,
                     "model": request.get("model", "stub"), "choices": [], "usage": usage})
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n",
                    "more_body": False})

    @staticmethod
    async def _json(send, status, payload):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(payload).encode()})


def serve_forever(argv: list[str] | None = None) -> None:
    """Run the stub in its own process (benchmarks): ``python -m tests.support.openai_server
    PORT DELAY REPLY``."""
    import sys

    port, delay, reply = (argv or sys.argv[1:])[:3]
    stub = OpenAIStub(reply=reply, delay=float(delay))
    stub.port = int(port)
    stub.server.config.port = int(port)
    stub.server.run()


if __name__ == "__main__":
    serve_forever()
