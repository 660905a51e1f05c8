"""Running one check spec against one answer, for the check tests."""

from __future__ import annotations

import asyncio

from scenarios.checks import CheckContext, CheckResult, load_domain_checks, run_checks


def check(spec: dict, answer: str, *, turn: dict | None = None, vertical: str = "medical",
          history: list[dict] | None = None, embed=None, judge=None) -> CheckResult:
    load_domain_checks()
    turn = turn or {"id": "t1", "user": "question", "expect": "answer", "reference": []}
    scenario = {"id": "s", "vertical": vertical, "checks": [], "turns": [turn]}
    ctx = CheckContext(vertical=vertical, embed=embed, judge=judge, history=history or [])
    [result] = run_sync(run_checks([spec], answer=answer, turn=turn, scenario=scenario,
                                      ctx=ctx))
    return result


def run_sync(coroutine):
    """Run a coroutine to completion from a test, even when the test process already has a
    running event loop (Playwright's sync API keeps one in the main thread)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()
