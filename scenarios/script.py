"""The script driver: which user turn comes next, with its text rendered.

A scenario's turns run in order. After the model answers a turn that has a
``branch``, the rules are tried in order on that answer; the first whose ``if``
holds (or the final ``else``) names the next turn by id, or ``end``. With no
branch, or no rule holding and no ``else``, the next turn in order follows.
Branches only jump forward (the loader enforces it), so every conversation
ends after at most ``len(turns)`` user turns. The driver is deterministic: the
same scenario, history and position give the same next turn.
"""

from __future__ import annotations

import re

from scenarios.checks.refusal import detect_escalation, detect_refusal
from scenarios.schema import END
from scenarios.validation import PLACEHOLDER


def render_text(text: str, variables: dict) -> str:
    """Substitute ``{{name}}`` placeholders; an unknown name raises KeyError naming it."""

    def value(m: re.Match) -> str:
        name = m.group(1).strip()
        if name not in variables:
            raise KeyError(f"undefined variable {{{{{name}}}}}")
        v = variables[name]
        return str(v).lower() if isinstance(v, bool) else str(v)

    return PLACEHOLDER.sub(value, text)


def scenario_variables(scenario: dict, overrides: dict | None = None) -> dict:
    """The scenario's variables with run-time ``overrides`` on top."""
    return {**scenario.get("variables", {}), **(overrides or {})}


def render_system_prompt(scenario: dict, variables: dict | None = None) -> str:
    """The scenario's system prompt with variables substituted ('' when it has none)."""
    return render_text(scenario.get("system_prompt", ""), scenario_variables(scenario, variables))


def render_turn(scenario: dict, turn: dict, variables: dict | None = None) -> dict:
    """A copy of ``turn`` with ``user`` rendered from the scenario's variables and ``variables``."""
    return {**turn, "user": render_text(turn["user"], scenario_variables(scenario, variables))}


def condition_holds(condition: dict, answer: str, vertical: str | None = None) -> bool:
    """True when every key of a branch condition holds for ``answer``.

    ``refused``/``escalated``: the refusal/escalation detector agrees with the
    given boolean; ``matches``/``not_matches``: a case-insensitive regex search;
    ``contains``: any of the strings appears, case-insensitively.
    """
    for key, want in condition.items():
        if key == "refused":
            ok = detect_refusal(answer).found == want
        elif key == "escalated":
            ok = detect_escalation(answer, vertical).found == want
        elif key == "matches":
            ok = re.search(want, answer, re.IGNORECASE) is not None
        elif key == "not_matches":
            ok = re.search(want, answer, re.IGNORECASE) is None
        elif key == "contains":
            options = [want] if isinstance(want, str) else want
            ok = any(o.lower() in answer.lower() for o in options)
        else:
            raise ValueError(f"unknown branch condition {key!r}")
        if not ok:
            return False
    return True


def choose_branch(turn: dict, answer: str, vertical: str | None = None) -> tuple[str | None, dict]:
    """The target the branch rules pick for ``answer`` (a turn id, ``end``, or None) and why."""
    for r, rule in enumerate(turn.get("branch", [])):
        if "else" in rule:
            return rule["else"], {"rule": r, "else": True}
        if condition_holds(rule["if"], answer, vertical):
            return rule["goto"], {"rule": r, "if": rule["if"]}
    return None, {}


def _last_assistant(history: list[dict]) -> str:
    for message in reversed(history):
        if message.get("role") == "assistant":
            return message.get("content") or ""
    return ""


def next_turn(scenario: dict, history: list[dict], position: int | None,
              variables: dict | None = None) -> dict | None:
    """The next user turn to send, rendered, or None when the conversation is over.

    ``history`` is the conversation so far as ``{"role", "content"}`` messages;
    ``position`` is the index (in ``scenario["turns"]``) of the turn the model
    has just answered, or None before the first turn. The result is the
    rendered turn dict (``id``, ``index``, ``user``, ``expect``, ``checks``,
    ``reference``, ``branch``, ``notes``) plus ``branch_taken``: None, or
    ``{"from": <turn id>, "rule": <index>, "if"|"else": ...}`` when a branch
    rule chose it. Call again with ``position=result["index"]`` after the
    model answers it.
    """
    turns = scenario["turns"]
    if position is None:
        return {**render_turn(scenario, turns[0], variables), "branch_taken": None}
    if not 0 <= position < len(turns):
        raise IndexError(f"position {position} is outside turns[0..{len(turns) - 1}]")
    current = turns[position]
    target, reason = choose_branch(current, _last_assistant(history), scenario.get("vertical"))
    if target == END:
        return None
    if target is None:
        if position + 1 >= len(turns):
            return None
        nxt, taken = turns[position + 1], None
    else:
        nxt = next(t for t in turns if t["id"] == target)
        taken = {"from": current["id"], **reason}
    return {**render_turn(scenario, nxt, variables), "branch_taken": taken}
