"""Drive a scenario against a scripted model the way the runs engine will, for the tests."""

from __future__ import annotations

from scenarios.checks import CheckContext, effective_checks, run_checks
from scenarios.script import next_turn
from tests.scenarios.helpers import run_sync


def converse(scenario: dict, model, *, embed=None, judge=None) -> list[dict]:
    """Play every turn of ``scenario`` against ``model``; one record per answered turn.

    Each record holds the rendered turn, the answer and the check results.
    """
    history: list[dict] = []
    records = []
    turn = next_turn(scenario, history, None)
    while turn is not None:
        history.append({"role": "user", "content": turn["user"]})
        answer = model.reply(turn["user"])
        ctx = CheckContext(vertical=scenario["vertical"], embed=embed, judge=judge,
                           history=list(history))
        results = run_sync(run_checks(effective_checks(scenario, turn), answer=answer,
                                         turn=turn, scenario=scenario, ctx=ctx))
        history.append({"role": "assistant", "content": answer})
        records.append({"turn": turn, "answer": answer, "results": results})
        turn = next_turn(scenario, history, turn["index"])
    return records


def alerts(records: list[dict]) -> list[tuple[str, str]]:
    """``(turn id, check)`` of every alerting result."""
    return [(r["turn"]["id"], c.check) for r in records for c in r["results"] if c.alert]
