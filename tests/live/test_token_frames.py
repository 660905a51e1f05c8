"""TokenFrames coalesces a turn's deltas into ``token`` events of about one per interval.

``publish_soon`` is replaced by a recorder that returns futures already done, so these tests
need no database: they look only at what would be queued, and when.
"""

import asyncio

import pytest

from sandbox.live import publish
from sandbox.live.publish import TokenFrames

INTERVAL = 0.05


class Recorder:
    """Stands in for ``publish_soon``: notes each frame, its time and its future."""

    def __init__(self):
        self.calls: list[dict] = []
        self.times: list[float] = []
        self.futures: list[asyncio.Future] = []

    def __call__(self, *, run_id, sandbox_id, type, payload):
        loop = asyncio.get_running_loop()
        self.calls.append({"run_id": run_id, "sandbox_id": sandbox_id, "type": type,
                           "payload": payload})
        self.times.append(loop.time())
        future = loop.create_future()
        future.set_result(len(self.calls))
        self.futures.append(future)
        return future

    @property
    def texts(self) -> list[str]:
        return [call["payload"]["text"] for call in self.calls]


@pytest.fixture
def sent(monkeypatch):
    recorder = Recorder()
    monkeypatch.setattr(publish, "publish_soon", recorder)
    return recorder


def frames(**kwargs) -> TokenFrames:
    return TokenFrames(run_id=7, sandbox_id=3, session_id=11, turn_index=2, interval=INTERVAL,
                       **kwargs)


async def test_a_hundred_deltas_become_about_ten_frames_spaced_by_the_interval(sent):
    deltas = [f"w{i} " for i in range(100)]
    tokens = frames()
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i, delta in enumerate(deltas):
        # Deltas at fixed times 5 ms apart, so that late wake-ups do not add up.
        await asyncio.sleep(max(0.0, start + i * 0.005 - loop.time()))
        await tokens.add(delta)
    last_add = loop.time()
    await asyncio.sleep(INTERVAL * 2)  # no add and no close: the timer sends the last words
    assert "".join(sent.texts) == "".join(deltas)
    assert sent.texts[-1].endswith(deltas[-1])
    assert sent.times[-1] > last_add
    # 0.5 s of deltas: a frame at once, then one every 50 ms (the last one by the timer); a
    # slow machine stretches the deltas, and no more than one frame per interval is allowed.
    assert 8 <= len(sent.calls) <= (last_add - start) / INTERVAL + 2, sent.texts
    assert tokens.frames_sent == len(sent.calls)
    gaps = [b - a for a, b in zip(sent.times, sent.times[1:], strict=False)]
    assert min(gaps) >= INTERVAL * 0.9, gaps
    assert all(call["type"] == "token" and call["run_id"] == 7 and call["sandbox_id"] == 3
               for call in sent.calls)
    assert all(set(call["payload"]) == {"session", "turn", "text"}
               and call["payload"]["session"] == 11 and call["payload"]["turn"] == 2
               for call in sent.calls)
    before = len(sent.calls)
    assert all(future.done() for future in tokens.close_nowait())
    assert len(sent.calls) == before  # closing with nothing left sends nothing


async def test_the_timer_sends_the_last_words_without_another_delta(sent):
    tokens = frames()
    await tokens.add("Take ")  # the first delta goes out at once
    await tokens.add("rest.")  # within the interval: held for the timer
    assert sent.texts == ["Take "]
    await asyncio.sleep(INTERVAL / 2)
    assert sent.texts == ["Take "]
    await asyncio.sleep(INTERVAL)
    assert sent.texts == ["Take ", "rest."]
    assert sent.times[1] - sent.times[0] >= INTERVAL * 0.9


async def test_empty_deltas_send_nothing(sent):
    tokens = frames()
    await tokens.add("")
    await asyncio.sleep(INTERVAL * 1.5)
    assert tokens.close_nowait() == []
    assert sent.calls == []


async def test_held_frames_collect_until_release_sends_them_as_one(sent):
    tokens = frames(held=True)
    for delta in ["Call ", "emergency ", "services ", "now."]:
        await tokens.add(delta)
        await asyncio.sleep(INTERVAL / 2)
    await asyncio.sleep(INTERVAL * 1.5)
    assert sent.calls == []
    tokens.release()
    assert sent.texts == ["Call emergency services now."]
    # Released, it frames as usual: the next delta waits for the interval, then goes by timer.
    await tokens.add(" Bye.")
    assert sent.texts == ["Call emergency services now."]
    await asyncio.sleep(INTERVAL * 1.5)
    assert sent.texts == ["Call emergency services now.", " Bye."]


async def test_discard_drops_held_text_and_nothing_is_sent_afterwards(sent):
    tokens = frames(held=True)
    await tokens.add("never ")
    await tokens.add("shown")
    tokens.discard()
    await tokens.add("still hidden")
    await asyncio.sleep(INTERVAL * 1.5)
    assert tokens.close_nowait() == []
    await tokens.close()
    assert sent.calls == [] and tokens.frames_sent == 0


async def test_discard_cancels_a_pending_timer(sent):
    tokens = frames()
    await tokens.add("shown ")
    await tokens.add("dropped")  # waiting for the timer
    tokens.discard()
    await asyncio.sleep(INTERVAL * 2)
    await tokens.add("after")
    tokens.close_nowait()
    assert sent.texts == ["shown "]


async def test_close_nowait_flushes_what_is_left_at_once(sent):
    tokens = frames()
    await tokens.add("first ")
    await tokens.add("second ")
    await tokens.add("third")
    assert sent.texts == ["first "]
    queued = tokens.close_nowait()
    assert sent.texts == ["first ", "second third"]  # without waiting for the interval
    assert queued and queued[-1] is sent.futures[-1]
    assert all(future in sent.futures for future in queued)
    await asyncio.sleep(INTERVAL * 2)  # the timer was cancelled: nothing is sent twice
    assert sent.texts == ["first ", "second third"]
    assert tokens.close_nowait() == []
