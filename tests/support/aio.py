"""Running coroutines from synchronous tests."""

import asyncio
from concurrent.futures import ThreadPoolExecutor


def run_sync(coroutine):
    """Run ``coroutine`` to completion in a thread of its own.

    Works even when the test process already has a running event loop in the
    main thread (Playwright's sync API keeps one there once a browser test ran),
    where ``asyncio.run`` and ``async_to_sync`` refuse.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
