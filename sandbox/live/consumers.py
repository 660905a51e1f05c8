"""The live websockets: ``/ws/sandboxes/<id>/`` (every run) and ``.../runs/<run_id>/`` (one run).

Plain ASGI applications (routed by Channels, authenticated by its session
middleware or a one-time ticket, see :mod:`sandbox.live.ws_access`) fed by the
process's :class:`~sandbox.live.hub.Hub`. Each connection

1. joins its group through the hub, so nothing published from then on is missed;
2. replays from the database what the client asks for (``?since=``) -- the run
   stream from the start when no ``since`` is given, the sandbox stream from now;
3. forwards live messages, each run's exactly once and in sequence order (a
   :class:`~sandbox.live.sequencing.Sequencer` drops duplicates, holds early
   events and fills gaps from the database).

The protocol is documented in ``docs/live-protocol.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time

from asgiref.sync import sync_to_async

from sandbox.live import ws_access
from sandbox.live.hub import Viewer, hub
from sandbox.live.models import RunEvent
from sandbox.live.publish import run_group, sandbox_group, stored_event_text
from sandbox.live.sequencing import Sequencer
from sandbox.runs.models import Run

logger = logging.getLogger(__name__)

# Database reads here use asgiref's sync_to_async, not Channels' database_sync_to_async: the
# latter closes the thread's connection around every call, and that thread is the one that
# stores the live events, which would then reconnect (milliseconds each) while streaming.

RECHECK_SECONDS = 30.0  # how often a connected viewer's role is checked again
GAP_WAIT = 0.25  # how long an early event waits for the missing ones before the database fills in
REPLAY_CHUNK = 500  # events per websocket message when replaying from the database


class BadRequest(ValueError):
    pass


def parse_since_run(raw) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BadRequest("since must be a sequence number (an integer ≥ 0).") from None
    if value < 0:
        raise BadRequest("since must be a sequence number (an integer ≥ 0).")
    return value


def parse_since_map(raw) -> dict[int, int]:
    """``since`` of the sandbox stream: ``"12:40,13:7"`` in a URL, or ``{"12": 40}`` in JSON."""
    pairs = raw.items() if isinstance(raw, dict) else (
        item.split(":", 1) for item in str(raw).split(",") if item.strip())
    result = {}
    try:
        for run_id, seq in pairs:
            result[int(run_id)] = parse_since_run(seq)
    except (TypeError, ValueError):
        raise BadRequest("since must map run ids to sequence numbers, e.g. 12:40,13:7.") from None
    return result


@sync_to_async
def _authorise(scope, sandbox_id, run_id):
    return ws_access.authorise(scope, sandbox_id=sandbox_id, run_id=run_id)


@sync_to_async
def _still_allowed(user_id, sandbox_id):
    return ws_access.still_allowed(user_id, sandbox_id)


@sync_to_async
def _events(run_id: int, after: int, until: int | None, limit: int) -> list[tuple[int, str]]:
    rows = RunEvent.objects.after(run_id, after, until=until)[:limit]
    return [(event.seq, stored_event_text(event)) for event in rows]


@sync_to_async
def _runs_of_sandbox(sandbox_id: int, run_ids) -> set[int]:
    return set(Run.objects.filter(sandbox_id=sandbox_id, pk__in=list(run_ids))
               .values_list("pk", flat=True))


@sync_to_async
def _active_positions(sandbox_id: int) -> dict[int, int]:
    return dict(Run.objects.filter(sandbox_id=sandbox_id).active()
                .values_list("pk", "event_seq"))


class LiveStream:
    """One websocket connection; subclasses say which groups it follows and what it replays."""

    def __init__(self, scope, receive, send):
        self.scope = scope
        self._receive = receive
        self._send = send
        self.kwargs = scope.get("url_route", {}).get("kwargs", {})
        self.sandbox_id = int(self.kwargs["sandbox_id"])
        self.viewer = Viewer()
        self.sequencer = Sequencer()
        self.lock = asyncio.Lock()
        self.gap_task: asyncio.Task | None = None
        self.grant = None
        self.closed = False

    @classmethod
    def as_asgi(cls):
        async def app(scope, receive, send):
            await cls(scope, receive, send).serve()

        app.__name__ = cls.__name__
        return app

    # What subclasses define.

    def groups(self) -> list[str]:
        raise NotImplementedError

    def parse_query(self) -> None:
        """Validate the query string before the connection is accepted (raise BadRequest)."""

    async def start(self) -> None:
        """Set the sequencer's starting points and replay what the client asked for."""

    async def resume(self, since) -> None:
        raise NotImplementedError

    # The connection.

    async def serve(self) -> None:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            return
        try:
            self.parse_query()
        except BadRequest as exc:
            await self.refuse(ws_access.Refusal(400, str(exc)))
            return
        decision = await _authorise(self.scope, self.sandbox_id, self.kwargs.get("run_id"))
        if isinstance(decision, ws_access.Refusal):
            await self.refuse(decision)
            return
        self.grant = decision
        await self._send({"type": "websocket.accept"})
        the_hub = hub()
        groups = self.groups() if the_hub is not None else []
        for group in groups:
            await the_hub.join(group, self.viewer)
        pump = None
        try:
            async with self.lock:
                await self.start()
            pump = asyncio.create_task(self.pump())
            await self.listen()
        finally:
            self.closed = True
            for task in (pump, self.gap_task):
                if task is not None:
                    task.cancel()
            for group in groups:
                await the_hub.leave(group, self.viewer)

    async def refuse(self, refusal: ws_access.Refusal) -> None:
        """Answer the handshake with an HTTP status (or a close code 4000+status)."""
        if "websocket.http.response" in (self.scope.get("extensions") or {}):
            body = json.dumps({"detail": refusal.detail}).encode()
            await self._send({"type": "websocket.http.response.start", "status": refusal.status,
                              "headers": [(b"content-type", b"application/json"),
                                          (b"content-length", str(len(body)).encode())]})
            await self._send({"type": "websocket.http.response.body", "body": body})
        else:
            await self._send({"type": "websocket.close", "code": 4000 + refusal.status})

    async def listen(self) -> None:
        """Read the client's messages until it leaves; re-check its role now and then."""
        checked = time.monotonic()
        while True:
            try:
                message = await asyncio.wait_for(self._receive(), timeout=RECHECK_SECONDS)
            except TimeoutError:
                message = None
            if message is not None and message["type"] == "websocket.disconnect":
                return
            if time.monotonic() - checked >= RECHECK_SECONDS:
                checked = time.monotonic()
                if not await _still_allowed(self.grant.user.pk, self.sandbox_id):
                    await self.close(4403)
                    return
            if message is not None and message["type"] == "websocket.receive":
                await self.on_client_message(message.get("text") or "")

    async def on_client_message(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            await self.send_control("error", "Messages must be JSON objects.")
            return
        if not isinstance(data, dict) or data.get("type") != "resume":
            await self.send_control("error", 'Unknown message; send {"type": "resume", '
                                             '"since": ...}.')
            return
        try:
            async with self.lock:
                await self.resume(data.get("since"))
        except BadRequest as exc:
            await self.send_control("error", str(exc))

    async def close(self, code: int) -> None:
        with contextlib.suppress(Exception):
            await self._send({"type": "websocket.close", "code": code})

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def send_events(self, texts: list[str]) -> None:
        if texts:
            await self.send_text("[" + ",".join(texts) + "]")

    async def send_control(self, type_: str, detail: str) -> None:
        await self.send_text(json.dumps([{"type": type_, "detail": detail}]))

    # Replays and live delivery (always under self.lock).

    async def replay(self, run_id: int, after: int) -> None:
        """Send ``run_id``'s stored events after ``after`` and continue live from there."""
        self.sequencer.expect(run_id, after)
        while True:
            rows = await _events(run_id, self.sequencer.last[run_id], None, REPLAY_CHUNK)
            texts = []
            for seq, text in rows:
                texts += self.sequencer.offer(run_id, seq, text)
            await self.send_events(texts)
            if len(rows) < REPLAY_CHUNK:
                return

    async def pump(self) -> None:
        try:
            while True:
                message = await self.viewer.queue.get()
                async with self.lock:
                    await self.deliver(message)
                    if self.sequencer.pending and self.gap_task is None:
                        self.gap_task = asyncio.create_task(self.fill_gaps())
        except asyncio.CancelledError:
            raise
        except (OSError, RuntimeError):  # the client went away mid-send: the connection ends
            logger.debug("live stream ended while sending", exc_info=True)

    async def deliver(self, message: dict) -> None:
        if message["type"] == "live.batch":
            items = message["items"]
            if self.sequencer.in_order(items):
                self.sequencer.advance(items)
                await self.send_text(message["text"])
                return
            texts = []
            for run_id, seq, text in items:
                texts += self.sequencer.offer(run_id, seq, text)
            await self.send_events(texts)
        else:
            await self.send_events(
                self.sequencer.offer(message["run"], message["seq"], message["text"]))

    async def fill_gaps(self) -> None:
        await asyncio.sleep(GAP_WAIT)
        async with self.lock:
            self.gap_task = None
            for run_id, (first, last) in self.sequencer.gaps().items():
                texts = []
                for seq, text in await _events(run_id, first - 1, last, last - first + 1):
                    texts += self.sequencer.offer(run_id, seq, text)
                if run_id in self.sequencer.pending and self.sequencer.gaps().get(run_id):
                    logger.warning("live: run %s events %s-%s are missing; skipping them",
                                   run_id, *self.sequencer.gaps()[run_id])
                    texts += self.sequencer.skip_to_held(run_id)
                await self.send_events(texts)


class RunStream(LiveStream):
    """``/ws/sandboxes/<sandbox_id>/runs/<run_id>/[?since=<seq>]``: one run, from the start."""

    def parse_query(self) -> None:
        self.since = parse_since_run(ws_access.query(self.scope).get("since", "0"))

    def groups(self) -> list[str]:
        return [run_group(self.grant.run.pk)]

    async def start(self) -> None:
        await self.replay(self.grant.run.pk, self.since)

    async def resume(self, since) -> None:
        await self.replay(self.grant.run.pk, parse_since_run(since))


class SandboxStream(LiveStream):
    """``/ws/sandboxes/<sandbox_id>/[?since=<run>:<seq>,...]``: every run, live from now.

    Runs named in ``since`` are replayed after their given sequence number;
    the sandbox's other active runs are followed from their current position.
    """

    def parse_query(self) -> None:
        self.since = parse_since_map(ws_access.query(self.scope).get("since", ""))

    def groups(self) -> list[str]:
        return [sandbox_group(self.sandbox_id)]

    async def start(self) -> None:
        for run_id, seq in (await _active_positions(self.sandbox_id)).items():
            self.sequencer.expect(run_id, seq)
        await self.resume(self.since)

    async def resume(self, since) -> None:
        wanted = parse_since_map(since if since is not None else {})
        own = await _runs_of_sandbox(self.sandbox_id, wanted) if wanted else set()
        for run_id in sorted(own):  # another sandbox's run ids are ignored, never replayed
            await self.replay(run_id, wanted[run_id])


async def not_found(scope, receive, send):
    """Any other websocket path: refused with 404."""
    message = await receive()
    if message["type"] == "websocket.connect":
        if "websocket.http.response" in (scope.get("extensions") or {}):
            await send({"type": "websocket.http.response.start", "status": 404,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "websocket.http.response.body", "body": b'{"detail":"Not found."}'})
        else:
            await send({"type": "websocket.close", "code": 4404})
