"""The process-local fan-out between the channel layer and the websocket viewers.

A process does not put every viewer into channel-layer groups: one
:class:`Hub` per process (per event loop) joins a group once, for as long as
at least one local viewer watches it, and hands each message it receives to
those viewers' queues. A message thus crosses the channel layer (and Redis,
when configured) once per process rather than once per viewer, and is never
copied or re-encoded per viewer.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Groups are joined again this often: channel layers expire memberships (and the
# in-memory layer drops a channel from its groups when a message of it expires).
REFRESH_SECONDS = 20.0
# A viewer that falls this far behind loses messages; it refills them from the database.
VIEWER_QUEUE_SIZE = 5000


class Viewer:
    """What the hub knows of one websocket connection: a bounded queue of messages."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=VIEWER_QUEUE_SIZE)
        self.dropped = 0

    def deliver(self, message: dict) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1  # the gap is noticed by sequence number and refilled


class Hub:
    def __init__(self, layer):
        self.layer = layer
        self.channel: str | None = None
        self.groups: dict[str, set[Viewer]] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []

    async def join(self, group: str, viewer: Viewer) -> None:
        async with self._lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="live-hub.")
                self._tasks = [asyncio.create_task(self._receive(), name="live-hub-receive"),
                               asyncio.create_task(self._refresh(), name="live-hub-refresh")]
            members = self.groups.get(group)
            if members is None:
                members = self.groups[group] = set()
                await self.layer.group_add(group, self.channel)
            members.add(viewer)

    async def leave(self, group: str, viewer: Viewer) -> None:
        async with self._lock:
            members = self.groups.get(group)
            if members is None:
                return
            members.discard(viewer)
            if not members:
                del self.groups[group]
                await self.layer.group_discard(group, self.channel)

    def close(self) -> None:
        """Stop listening (the process's channel layer was replaced)."""
        for task in self._tasks:
            task.cancel()

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live hub: receiving from the channel layer failed; retrying")
                await asyncio.sleep(0.5)
                continue
            for viewer in tuple(self.groups.get(message.get("group"), ())):
                viewer.deliver(message)

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            for group in tuple(self.groups):
                try:
                    await self.layer.group_add(group, self.channel)
                except Exception:
                    logger.exception("live hub: joining %s again failed", group)


_hubs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def hub() -> Hub | None:
    """The hub of the running event loop (None when no channel layer is configured)."""
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = asyncio.get_running_loop()
    current = _hubs.get(loop)
    if current is None or current.layer is not layer:
        if current is not None:
            current.close()
        current = _hubs[loop] = Hub(layer)
    return current
