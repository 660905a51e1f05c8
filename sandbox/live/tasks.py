"""Background jobs of live monitoring (procrastinate)."""

from procrastinate.contrib.django import app

from sandbox.live.synthetic import synthetic_stream


@app.task(name="live.synthetic_stream", queue="live-synthetic")
async def synthetic_stream_job(session_id: int, turns: int = 1, tokens: int = 40,
                               rate: float = 20.0, start_at: float | None = None,
                               stamp: bool = False) -> dict:
    """Play a synthetic session (load tests, ``bench_live``); see :mod:`sandbox.live.synthetic`."""
    return await synthetic_stream(session_id=session_id, turns=turns, tokens=tokens, rate=rate,
                                  start_at=start_at, stamp=stamp)
