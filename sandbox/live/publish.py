"""The one module that builds live messages and sends them to the channel layer.

Every run event (``run.*``, ``turn.*``, ``token``, ``alert``, ``annotation``)
goes through :func:`apublish` (async code) or :func:`publish` (sync code). A
message is first stored as a :class:`~sandbox.live.models.RunEvent` with the
run's next sequence number, then sent to the groups ``run.<id>`` and
``sandbox.<id>`` -- after the surrounding transaction commits, so a viewer
never sees an event that rolled back.
"""

from __future__ import annotations

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
