"""Process-wide runtime settings applied once Django has loaded every app."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Exclude the objects that exist once the apps are loaded from garbage collection.

    Loading Django, LangChain, the OpenAI client and pydantic's models leaves
    a few hundred thousand long-lived objects. Python's full (generation 2)
    collection walks all of them, and it holds the GIL throughout: 150-180 ms
    in which the process's event loop stops (every model stream, every
    websocket), measured once per round of ``tests/bench/bench_runs.py``.
    Frozen objects are never walked again; objects created later are
    collected as before, and reference counting still frees frozen ones.
    """
    gc.collect()  # what startup left as garbage is freed, not frozen
    gc.freeze()
