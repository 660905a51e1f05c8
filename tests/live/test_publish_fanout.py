"""Sending live events through the in-process channel layer (sandbox/live/publish.py): events
nobody watches are stored but not handed to the layer; a member of a group gets them."""

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer

from sandbox.live.models import RunEvent
from sandbox.live.publish import apublish, run_group, sandbox_group
from tests.live.conftest import make_run

pytestmark = pytest.mark.django_db(transaction=True)


async def test_events_go_to_the_in_memory_layer_only_when_someone_is_in_the_group(
        sandbox_a, monkeypatch):
    run = await sync_to_async(make_run)(sandbox_a)
    layer = get_channel_layer()
    assert type(layer) is InMemoryChannelLayer  # the single-process deployment's layer
    sent = []
    original = layer.group_send

    async def recording(group, message):
        sent.append(group)
        await original(group, message)

    monkeypatch.setattr(layer, "group_send", recording)
    payload = {"session": 1, "turn": 0, "text": "<b>hostile</b>"}
    await apublish(run_id=run.pk, sandbox_id=sandbox_a.pk, type="alert", payload=payload)
    assert sent == []  # nobody watches: nothing goes through the layer
    assert await RunEvent.objects.filter(run=run, type="alert").acount() == 1  # but stored

    channel = await layer.new_channel(prefix="live-hub.")
    await layer.group_add(run_group(run.pk), channel)
    await layer.group_add(sandbox_group(sandbox_a.pk), channel)
    message = await apublish(run_id=run.pk, sandbox_id=sandbox_a.pk, type="alert",
                             payload=payload)
    assert sent == [run_group(run.pk), sandbox_group(sandbox_a.pk)]
    first, second = await layer.receive(channel), await layer.receive(channel)
    assert first["type"] == "live.event" and first["seq"] == message["seq"] == 2
    assert second["type"] == "live.batch" and second["items"][0][:2] == [run.pk, 2]
