"""Reading Server-Sent Events off a real HTTP response, block by block as they arrive."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from domains import openai_client
from domains.openai_client import EndpointError, sse_data


async def served_in_blocks(blocks: list[bytes]) -> list[str]:
    """Serve ``blocks`` as one HTTP response body, each written and flushed on its own (so
    the client reads them as separate blocks), and return what :func:`sse_data` yields."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                     b"connection: close\r\n\r\n")
        for block in blocks:
            writer.write(block)
            await writer.drain()
            await asyncio.sleep(0.02)
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}/") as response:
            return [data async for data in sse_data(response.content)]
    finally:
        server.close()
        await server.wait_closed()


STREAM = ('data: {"n": 1}\n\n'
          ': a comment, then the other fields\n'
          'event: message\nid: 7\nretry: 1000\ndata: {"n": 2}\n\n'
          'data: first line\ndata:second line\ndata\n\n'
          'data: 汉字 and é\n\n'
          'data: [DONE]\n\n').encode()
EXPECTED = ['{"n": 1}', '{"n": 2}', "first line\nsecond line\n", "汉字 and é", "[DONE]"]


async def test_events_read_in_one_block():
    assert await served_in_blocks([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 16])
async def test_events_cut_anywhere_between_blocks_read_the_same(size):
    # Blocks of a few bytes cut lines, "\r\n" pairs and multi-byte characters in two.
    stream = STREAM.replace(b"\n", b"\r\n") if size % 2 else STREAM
    blocks = [stream[i:i + size] for i in range(0, len(stream), size)]
    assert await served_in_blocks(blocks) == EXPECTED


async def test_an_event_cut_off_by_the_end_of_the_stream_is_dropped():
    assert await served_in_blocks([b"data: whole\n\ndata: no blank line after"]) == ["whole"]


async def test_bytes_that_are_not_utf8_are_replaced():
    assert await served_in_blocks([b"data: caf\xe9!\n\n"]) == ["caf\ufffd!"]


async def test_a_line_without_end_beyond_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(openai_client, "MAX_LINE_BYTES", 1000)
    with pytest.raises(EndpointError, match="longer than 1000 bytes"):
        await served_in_blocks([b"data: ok\n\n", b"data: " + b"x" * 600, b"x" * 600])


async def test_long_lines_within_the_limit_are_read_whole(monkeypatch):
    monkeypatch.setattr(openai_client, "MAX_LINE_BYTES", 1000)
    text = "y" * 900
    assert await served_in_blocks([f"data: {text}".encode()[:500],
                                   f"data: {text}\n\n".encode()[500:]]) == [text]
