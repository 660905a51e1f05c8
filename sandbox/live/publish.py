"""The one module that builds live messages and sends them to the channel layer.

Every run event (``run.*``, ``turn.*``, ``token``, ``alert``, ``annotation``)
goes through :func:`apublish` (async code) or :func:`publish` (sync code). A
message is first stored as a :class:`~sandbox.live.models.RunEvent` with the
run's next sequence number, then sent to the groups ``run.<id>`` and
``sandbox.<id>`` -- after the surrounding transaction commits, so a viewer
never sees an event that rolled back.
"""

from __future__ import annotations

import asyncio

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection, transaction

from sandbox.live.models import RunEvent

EVENT_TYPES = frozenset({
    "run.started", "run.progress", "run.completed", "run.halted",
    "turn.started", "token", "turn.completed", "alert", "annotation",
})


def run_group(run_id: int) -> str:
    return f"run.{run_id}"


def sandbox_group(sandbox_id: int) -> str:
    return f"sandbox.{sandbox_id}"


def _store(run_id: int, sandbox_id: int, type_: str, payload: dict) -> dict:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown live event type {type_!r}")
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE runs_run SET event_seq = event_seq + 1 WHERE id = %s RETURNING event_seq",
                [run_id],
            )
            seq = cursor.fetchone()[0]
        event = RunEvent.objects.create(run_id=run_id, sandbox_id=sandbox_id, seq=seq,
                                        type=type_, payload=payload)
    return event.as_message()


async def _send(message: dict, sandbox_id: int) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    envelope = {"type": "live.event", "event": message}
    await layer.group_send(run_group(message["run"]), envelope)
    await layer.group_send(sandbox_group(sandbox_id), envelope)


async def apublish(*, run_id: int, sandbox_id: int, type: str, payload: dict) -> dict:
    """Store and broadcast one event from async code; return the message sent."""
    message = await sync_to_async(_store)(run_id, sandbox_id, type, payload)
    await _send(message, sandbox_id)
    return message


def publish(*, run_id: int, sandbox_id: int, type: str, payload: dict) -> dict:
    """Store one event from sync code and broadcast it once the transaction commits."""
    message = _store(run_id, sandbox_id, type, payload)
    transaction.on_commit(lambda: async_to_sync(_send)(message, sandbox_id))
    return message


class TokenFrames:
    """Coalesce a turn's streamed text deltas into ``token`` events of at most ~50 ms each.

    The engine calls :meth:`add` for every delta the model yields and
    :meth:`close` when the turn ends; a frame goes out when ``interval``
    seconds have passed since the previous one (checked as deltas arrive, and
    by a timer so that a slow model's last words are not held back).
    """

    def __init__(self, *, run_id: int, sandbox_id: int, session_id: int, turn_index: int,
                 interval: float = 0.05):
        self.run_id = run_id
        self.sandbox_id = sandbox_id
        self.session_id = session_id
        self.turn_index = turn_index
        self.interval = interval
        self._buffer: list[str] = []
        self._last_sent = 0.0
        self._timer = None
        self._lock = None
        self.frames_sent = 0

    async def add(self, text: str) -> None:
        if not text:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        self._buffer.append(text)
        loop = asyncio.get_running_loop()
        if loop.time() - self._last_sent >= self.interval:
            await self.flush()
        elif self._timer is None:
            delay = self.interval - (loop.time() - self._last_sent)
            self._timer = loop.create_task(self._flush_later(delay))

    async def _flush_later(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self._timer = None
        await self.flush()

    async def flush(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not self._buffer:
                return
            text = "".join(self._buffer)
            self._buffer.clear()
            self._last_sent = asyncio.get_running_loop().time()
            self.frames_sent += 1
            await apublish(run_id=self.run_id, sandbox_id=self.sandbox_id, type="token",
                           payload={"session": self.session_id, "turn": self.turn_index,
                                    "text": text})

    async def close(self) -> None:
        """Send what is left; call before ``turn.completed`` so the order holds."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.flush()
