"""Running check specs against one answer."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable

from scenarios.checks.base import CheckContext, CheckResult, Outcome
from scenarios.checks.registry import default_checks, get_check

logger = logging.getLogger(__name__)


def effective_checks(scenario: dict, turn: dict) -> list[dict]:
    """The specs to run on an answer to ``turn``, in order.

    The automatic ``expectation`` check first (unless listed explicitly), then
    the scenario's ``checks``, the turn's ``checks``, and, when the scenario's
    ``default_checks`` is true, the vertical's ``DEFAULT_CHECKS`` whose type is
    not already listed.
    """
    specs = [dict(s) for s in scenario.get("checks", []) + turn.get("checks", [])]
    listed = {s["type"] for s in specs}
    if "expectation" not in listed:
        specs.insert(0, {"type": "expectation"})
    if scenario.get("default_checks", True):
        defaults = default_checks(scenario.get("vertical", ""))
        specs += [s for s in defaults if s["type"] not in listed]
    return specs


def _start_one(spec: dict, *, answer: str, turn: dict, scenario: dict,
               ctx: CheckContext) -> CheckResult | Awaitable[CheckResult]:
    """Run one check: its result, or an awaitable of it when the check is asynchronous."""
    name = spec.get("type", "")
    check = get_check(name)
    if check is None:
        logger.error("unknown check type %r in scenario %s", name, scenario.get("id"))
        return CheckResult(check=name, passed=False,
                           evidence={"error": f"unknown check type {name!r}"})
    try:
        outcome = check.func(spec, answer=answer or "", turn=turn, scenario=scenario, ctx=ctx)
    except Exception as exc:
        return _failed(name, scenario, exc)
    if inspect.isawaitable(outcome):
        return _finish_later(spec, check, outcome, scenario)
    return _result(spec, check, outcome)


async def _finish_later(spec: dict, check, outcome: Awaitable, scenario: dict) -> CheckResult:
    try:
        outcome = await outcome
    except Exception as exc:
        return _failed(check.name, scenario, exc)
    return _result(spec, check, outcome)


def _failed(name: str, scenario: dict, exc: Exception) -> CheckResult:
    logger.error("check %s failed on scenario %s", name, scenario.get("id"), exc_info=exc)
    return CheckResult(check=name, passed=False,
                       evidence={"error": f"{type(exc).__name__}: {exc}"})


def _result(spec: dict, check, outcome) -> CheckResult:
    if not isinstance(outcome, Outcome):
        raise TypeError(f"check {check.name!r} returned {type(outcome).__name__}, not Outcome")
    severity = spec.get("severity") or outcome.severity or check.default_severity
    return CheckResult(check=check.name, passed=outcome.passed, score=outcome.score,
                       evidence=outcome.evidence, severity=severity,
                       alert=not outcome.passed and severity is not None)


async def run_checks(specs: list[dict], *, answer: str, turn: dict, scenario: dict,
                     ctx: CheckContext) -> list[CheckResult]:
    """Run every spec on ``answer``; one result per spec, in the same order.

    Synchronous checks run at once, one after the other; the asynchronous ones
    (a judge's model call) are awaited together, so their calls overlap. Only
    those take a turn of the event loop: in a loop busy with streaming
    sessions, four checks each gathered as a task took 7.5 ms at the median
    (``tests/bench/bench_runs.py``) for 0.3 ms of work, on the way from a
    run's last answer to its close. A check that raises does not stop the
    others: its result fails with ``evidence={"error": ...}``, no alert, and
    the exception is logged. ``turn`` should be the rendered turn
    (``scenarios.script.render_turn``), so checks see the text the model saw.
    """
    results = [_start_one(spec, answer=answer, turn=turn, scenario=scenario, ctx=ctx)
               for spec in specs]
    later = [i for i, result in enumerate(results) if not isinstance(result, CheckResult)]
    if later:
        for i, result in zip(later, await asyncio.gather(*(results[i] for i in later)),
                             strict=True):
            results[i] = result
    return results
