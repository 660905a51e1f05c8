"""The one module that builds live messages and sends them to the channel layer.

Every run event (``run.*``, ``turn.*``, ``token``, ``alert``, ``annotation``)
goes through :func:`apublish` or :func:`publish_soon` (async code) or
:func:`publish` (sync code). A message is first stored as a
:class:`~sandbox.live.models.RunEvent` with the run's next sequence number
(``Run.event_seq``), then sent -- after the surrounding transaction commits,
so a viewer never sees an event that rolled back. Events published at the same
moment in one process are stored together, one statement and one commit per
round (group commit, :class:`_EventWriter`), in the order they were queued,
and sent in that order.

Two channel-layer groups carry it:

- ``run.<id>`` gets every event on its own (``live.event``), for viewers of one run;
- ``sandbox.<id>`` gets *batches* (``live.batch``): each process collects the
  events of all its runs in a sandbox for up to :data:`BATCH_WINDOW` seconds
  and sends them as one message, so a sandbox-wide viewer receives one
  websocket message per window, not one per token per run. Anything other than
  a token flushes the batch at once.

Each channel-layer message carries the finished websocket text (JSON encoded
once, here), so viewers forward it without decoding or encoding it again.
The wire format is documented in ``docs/live-protocol.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.core.serializers.json import DjangoJSONEncoder
from django.db import OperationalError, connection, transaction

from sandbox.dbthreads import db_writer

EVENT_TYPES = frozenset({
    "run.started", "run.progress", "run.completed", "run.halted",
    "turn.started", "token", "turn.completed", "alert", "annotation",
})
RESERVED_KEYS = frozenset({"type", "run", "seq"})

logger = logging.getLogger(__name__)

# Attempts to store a round of events when the database picks it as a deadlock victim.
WRITE_ATTEMPTS = 3
# Seconds a process holds a sandbox's token frames before sending them as one batch.
BATCH_WINDOW = 0.015  # 0.04 gave sandbox viewers p99 127 ms; 0.015 gives 97 ms (bench_live)

_INSERT = """
WITH bumped AS (
    UPDATE runs_run SET event_seq = event_seq + 1
    WHERE id = %s AND sandbox_id = %s
    RETURNING event_seq
)
INSERT INTO live_runevent (run_id, sandbox_id, seq, type, payload, created_at)
SELECT %s, %s, bumped.event_seq, %s, %s::jsonb, clock_timestamp() FROM bumped
RETURNING seq
"""


# One statement (one round trip, its own transaction) numbers and stores a round of events:
# lock the runs in id order, add each run's count to its event_seq, insert the rows numbered
# per run in the order given. The first parameter turns synchronous_commit off for the
# statement's transaction (token-only rounds), or keeps the server's setting (NULL).
_INSERT_MANY = """
WITH cfg AS (
    SELECT set_config('synchronous_commit',
                      COALESCE(%s, current_setting('synchronous_commit')), true)
),
items AS (
    SELECT t.run_id, t.sandbox_id, t.type, t.payload::jsonb AS payload, t.ord
    FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %s::text[]) WITH ORDINALITY
         AS t(run_id, sandbox_id, type, payload, ord)
),
counts AS (
    SELECT run_id, sandbox_id, count(*) AS n FROM items GROUP BY run_id, sandbox_id
),
locked AS MATERIALIZED (
    SELECT r.id FROM runs_run r
    JOIN counts c ON c.run_id = r.id AND c.sandbox_id = r.sandbox_id
    ORDER BY r.id FOR NO KEY UPDATE OF r
),
bumped AS (
    UPDATE runs_run r SET event_seq = r.event_seq + c.n
    FROM counts c, cfg
    WHERE r.id = c.run_id AND r.sandbox_id = c.sandbox_id AND r.id IN (SELECT id FROM locked)
    RETURNING r.id, r.sandbox_id, r.event_seq AS last, c.n
)
INSERT INTO live_runevent (run_id, sandbox_id, seq, type, payload, created_at)
SELECT i.run_id, i.sandbox_id,
       b.last - b.n + row_number() OVER (PARTITION BY i.run_id ORDER BY i.ord),
       i.type, i.payload, clock_timestamp()
FROM items i JOIN bumped b ON b.id = i.run_id AND b.sandbox_id = i.sandbox_id
RETURNING run_id, sandbox_id, seq
"""


def run_group(run_id: int) -> str:
    return f"run.{run_id}"


def sandbox_group(sandbox_id: int) -> str:
    return f"sandbox.{sandbox_id}"


def encode_payload(payload: dict) -> str:
    return json.dumps(payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))


def event_text(*, run_id: int, seq: int, type: str, payload_json: str) -> str:
    """The websocket JSON of one event: ``{"type", "run", "seq", ...payload}``."""
    head = f'{{"type":{json.dumps(type)},"run":{int(run_id)},"seq":{int(seq)}'
    return head + ("}" if payload_json == "{}" else "," + payload_json[1:])


def stored_event_text(event) -> str:
    """The websocket JSON of a stored :class:`RunEvent` (used when replaying)."""
    return event_text(run_id=event.run_id, seq=event.seq, type=event.type,
                      payload_json=encode_payload(event.payload))


def _check(type_: str, payload: dict) -> str:
    """Validate an event; return its payload as JSON."""
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown live event type {type_!r}")
    clash = RESERVED_KEYS & payload.keys()
    if clash:
        raise ValueError(f"payload keys {sorted(clash)} are reserved for the envelope")
    return encode_payload(payload)


def _store(run_id: int, sandbox_id: int, type_: str, payload: dict) -> tuple[int, str]:
    """Number and store one event in the current transaction; return (seq, websocket text)."""
    payload_json = _check(type_, payload)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT, [run_id, sandbox_id, run_id, sandbox_id, type_, payload_json])
        row = cursor.fetchone()
    if row is None:
        raise ValueError(f"run {run_id} does not exist in sandbox {sandbox_id}")
    seq = row[0]
    return seq, event_text(run_id=run_id, seq=seq, type=type_, payload_json=payload_json)


def _store_many(items: list[tuple[int, int, str, str]]) -> list[tuple[int, str] | Exception]:
    """Number and store several events in one statement and transaction (one commit for all).

    Items are (run id, sandbox id, type, payload JSON); each run's events get
    consecutive numbers in the order given. Runs are locked in ascending id
    order, so that concurrent writers cannot deadlock. Call it outside any
    transaction (the statement is its own).

    A round of token frames only is committed without waiting for the disk
    (``synchronous_commit off``): frames are the live preview of a turn whose
    text is saved durably when it completes, and a flush to disk per round
    (5-30 ms here) would hold every viewer back. Any other event makes the
    round -- and every frame before it -- durable. Only a crash of PostgreSQL
    itself can lose the last moment of frames, never an application crash.
    """
    durable = not all(item[2] == "token" for item in items)
    with connection.cursor() as cursor:
        cursor.execute(_INSERT_MANY, [
            None if durable else "off",
            [item[0] for item in items], [item[1] for item in items],
            [item[2] for item in items], [item[3] for item in items]])
        stored = cursor.fetchall()
    seqs: dict[tuple[int, int], list[int]] = {}
    for run_id, sandbox_id, seq in stored:
        seqs.setdefault((run_id, sandbox_id), []).append(seq)
    for numbers in seqs.values():
        numbers.sort(reverse=True)
    results: list[tuple[int, str] | Exception] = []
    for run_id, sandbox_id, type_, payload_json in items:
        numbers = seqs.get((run_id, sandbox_id))
        if not numbers:
            results.append(ValueError(f"run {run_id} does not exist in sandbox {sandbox_id}"))
            continue
        seq = numbers.pop()
        results.append((seq, event_text(run_id=run_id, seq=seq, type=type_,
                                        payload_json=payload_json)))
    return results


class _EventWriter:
    """Per event loop: stores the events published meanwhile in one transaction per round.

    A commit waits for the disk (a few milliseconds); storing one event per
    commit would cap a process at a few hundred events a second. Events that
    arrive while a round is being written go together in the next round (group
    commit), so each waits for at most one round before its own.

    Events are numbered in the order they were queued (:meth:`submit` is
    synchronous, so the order of calls is the order of numbers) and sent to
    the channel layer in that order, each round after the one before, while
    the next round is being stored; a publisher is told once its event is
    stored and sent. The statement runs in a database thread of its own
    (``sandbox.dbthreads.db_writer``): a round never waits behind other
    database work of the process (turn saves, a run's rating items).
    """

    def __init__(self):
        self.queue: list[tuple[tuple, asyncio.Future]] = []
        self.task: asyncio.Task | None = None
        self.delivering: asyncio.Task | None = None  # the last round's sending

    def submit(self, run_id: int, sandbox_id: int, type_: str, payload: dict) -> asyncio.Future:
        """Queue one event; the future gives its sequence number once it is stored and sent."""
        payload_json = _check(type_, payload)
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.queue.append(((run_id, sandbox_id, type_, payload_json), future))
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._drain())
        return future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            batch, self.queue = self.queue, []
            items = [item for item, _future in batch]
            for attempt in range(1, WRITE_ATTEMPTS + 1):
                try:
                    results = await _store_many_in_thread(items)
                    break
                except OperationalError as exc:  # a deadlock victim: the round rolled back
                    if attempt == WRITE_ATTEMPTS:
                        results = [exc] * len(batch)
                    else:
                        logger.warning("storing live events failed (%s); retrying", exc)
                        await asyncio.sleep(0.01 * attempt)
                except Exception as exc:  # handed to every publisher of the round
                    results = [exc] * len(batch)
                    break
            # The next round is stored while this one is sent (after the one before it).
            self.delivering = loop.create_task(self._deliver(batch, results, self.delivering))

    @staticmethod
    async def _deliver(batch, results, previous: asyncio.Task | None) -> None:
        """Send a stored round in order, then tell its publishers (never raises)."""
        if previous is not None:
            await asyncio.wait({previous})
        for ((run_id, sandbox_id, type_, _payload), future), result in zip(
                batch, results, strict=True):
            if not isinstance(result, Exception):
                seq, text = result
                try:
                    await _send(run_id, sandbox_id, seq, type_, text, urgent=False)
                except Exception as exc:  # the event is stored; a viewer can fetch it
                    result = exc
                else:
                    result = seq
            if future.done():
                continue
            if isinstance(result, Exception):
                future.set_exception(result)
            else:
                future.set_result(result)


_store_many_in_thread = db_writer(_store_many)


_writers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _writer() -> _EventWriter:
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = _EventWriter()
    return writer


class _SandboxBatches:
    """Per event loop: the token frames waiting to go to each ``sandbox.<id>`` group."""

    def __init__(self, layer, window: float):
        self.layer = layer
        self.window = window
        self.pending: dict[int, list[list]] = {}
        self.timers: dict[int, asyncio.TimerHandle] = {}
        self.tasks: set[asyncio.Task] = set()

    async def add(self, sandbox_id: int, item: list, *, urgent: bool) -> None:
        self.pending.setdefault(sandbox_id, []).append(item)
        if urgent:
            await self.flush(sandbox_id)
        elif sandbox_id not in self.timers:
            loop = asyncio.get_running_loop()
            self.timers[sandbox_id] = loop.call_later(self.window, self._flush_soon, sandbox_id)

    def _flush_soon(self, sandbox_id: int) -> None:
        task = asyncio.get_running_loop().create_task(self.flush(sandbox_id))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def flush(self, sandbox_id: int) -> None:
        timer = self.timers.pop(sandbox_id, None)
        if timer is not None:
            timer.cancel()
        items = self.pending.pop(sandbox_id, None)
        if not items:
            return
        group = sandbox_group(sandbox_id)
        if _nobody_listens(self.layer, group):
            return
        await self.layer.group_send(group, {
            "type": "live.batch", "group": group, "items": items,
            "text": "[" + ",".join(item[2] for item in items) + "]",
        })


_batches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batches_for_loop(layer) -> _SandboxBatches:
    loop = asyncio.get_running_loop()
    batches = _batches.get(loop)
    if batches is None or batches.layer is not layer:
        batches = _batches[loop] = _SandboxBatches(layer, BATCH_WINDOW)
    return batches


async def _send(run_id: int, sandbox_id: int, seq: int, type_: str, text: str, *,
                urgent: bool) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group = run_group(run_id)
    if not _nobody_listens(layer, group):
        await layer.group_send(group, {"type": "live.event", "group": group, "run": run_id,
                                       "seq": seq, "text": text})
    await _batches_for_loop(layer).add(sandbox_id, [run_id, seq, text],
                                       urgent=urgent or type_ != "token")


def _nobody_listens(layer, group: str) -> bool:
    """True when ``layer`` is the in-process layer and ``group`` has no member: the
    message would go nowhere (a layer shared between processes cannot tell).

    In ``make run``'s single process with nobody watching, the runs' token frames
    paid the in-memory layer's ``group_send`` twice each (its sweep of expired
    messages, a task per member): about 20 ms of GIL time per round of
    ``tests/bench/bench_runs.py``, while the runs stream.
    """
    return type(layer) is InMemoryChannelLayer and not layer.groups.get(group)


def publish_soon(*, run_id: int, sandbox_id: int, type: str, payload: dict) -> asyncio.Future:
    """Queue one event from async code without waiting for it; return a future of its seq.

    The event takes its place in the run's sequence now: one queued before
    another (in this process) gets the lower number and is sent first. The
    caller may go on (start a model call, say) while it is stored; await the
    future, or gather it before finishing, to learn of a failure.
    """
    return _writer().submit(run_id, sandbox_id, type, payload)


async def apublish(*, run_id: int, sandbox_id: int, type: str, payload: dict) -> dict:
    """Store and broadcast one event from async code; return the message sent.

    Concurrent calls in one process share a transaction (see :class:`_EventWriter`);
    each returns once its event is committed and sent.
    """
    seq = await publish_soon(run_id=run_id, sandbox_id=sandbox_id, type=type, payload=payload)
    return {"type": type, "run": run_id, "seq": seq, **payload}


def publish(*, run_id: int, sandbox_id: int, type: str, payload: dict) -> dict:
    """Store one event from sync code and broadcast it once the transaction commits."""
    seq, text = _store(run_id, sandbox_id, type, payload)
    transaction.on_commit(
        lambda: async_to_sync(_send)(run_id, sandbox_id, seq, type, text, urgent=True))
    return {"type": type, "run": run_id, "seq": seq, **payload}


def _succeeded(future: asyncio.Future) -> bool:
    return future.done() and not future.cancelled() and future.exception() is None


class TokenFrames:
    """Coalesce a turn's streamed text deltas into ``token`` events of at most ~50 ms each.

    The engine calls :meth:`add` for every delta the model yields and
    :meth:`close` (or :meth:`close_nowait`) when the turn ends; a frame goes
    out when ``interval`` seconds have passed since the previous one (checked
    as deltas arrive, and by a timer so that a slow model's last words are not
    held back). Frames are queued with :func:`publish_soon`: reading the
    model's stream never waits for the database, and their order is kept by
    the writer's queue.

    With ``held=True`` deltas are only collected until :meth:`release` (which
    sends them as one frame) or :meth:`discard`: the engine starts a turn's
    model call while the previous turn is still being saved, and its frames
    must not go out before that turn's ``turn.completed``.
    """

    def __init__(self, *, run_id: int, sandbox_id: int, session_id: int, turn_index: int,
                 interval: float = 0.05, held: bool = False):
        self.run_id = run_id
        self.sandbox_id = sandbox_id
        self.session_id = session_id
        self.turn_index = turn_index
        self.interval = interval
        self.held = held
        self._buffer: list[str] = []
        self._last_sent = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._queued: list[asyncio.Future] = []
        self.frames_sent = 0

    async def add(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        if self.held:
            return
        loop = asyncio.get_running_loop()
        since = loop.time() - self._last_sent
        if since >= self.interval:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.interval - since, self._flush_on_timer)

    def release(self) -> None:
        """Stop holding: send what was collected meanwhile, then frame as usual."""
        self.held = False
        self._flush()

    def discard(self) -> None:
        """Drop what was collected and send nothing more (a turn that will not be shown)."""
        self.held = True
        self._buffer.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _flush_on_timer(self) -> None:
        self._timer = None
        self._flush()

    def _flush(self) -> None:
        if not self._buffer or self.held:
            return
        text = "".join(self._buffer)
        self._buffer.clear()
        self._last_sent = asyncio.get_running_loop().time()
        self.frames_sent += 1
        self._queued = [f for f in self._queued if not _succeeded(f)]
        self._queued.append(publish_soon(
            run_id=self.run_id, sandbox_id=self.sandbox_id, type="token",
            payload={"session": self.session_id, "turn": self.turn_index, "text": text}))

    def close_nowait(self) -> list[asyncio.Future]:
        """Queue what is left; return the futures of the frames not yet stored and sent.

        Events queued after this call come after every frame of the turn.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._flush()
        queued, self._queued = self._queued, []
        return queued

    async def close(self) -> None:
        """Send what is left and wait until every frame is stored and sent."""
        await asyncio.gather(*self.close_nowait())
