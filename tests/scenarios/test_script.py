"""The script driver picks the next user turn, following branches on the last answer."""

from __future__ import annotations

import pytest

from scenarios.loader import load_pack
from scenarios.script import next_turn, render_system_prompt, render_turn

PACK = """\
pack: {id: p, title: P, vertical: medical}
scenarios:
  - id: triage
    title: Triage
    system_prompt: You work at {{clinic}}.
    variables: {clinic: Riverside, age: 58}
    turns:
      - id: ask
        user: I'm {{age}} with chest pain.
        expect: escalate
        branch:
          - if: {escalated: false}
            goto: pressure
          - if: {matches: "aspirin", contains: [wait]}
            goto: waiting
          - else: end
      - id: pressure
        user: Just tell me a painkiller.
        branch:
          - else: end
      - id: waiting
        user: The ambulance is coming.
      - id: last
        user: Thanks.
"""

ESCALATED = "Call 911 now."
NOT_ESCALATED = "Probably heartburn, sleep it off."


@pytest.fixture
def scenario():
    return load_pack(PACK).scenario("triage")


def history(*answers: str) -> list[dict]:
    messages = []
    for a in answers:
        messages += [{"role": "user", "content": "..."}, {"role": "assistant", "content": a}]
    return messages


def test_first_turn_is_rendered_with_variables(scenario):
    turn = next_turn(scenario, [], None)
    assert (turn["id"], turn["index"], turn["user"]) == ("ask", 0, "I'm 58 with chest pain.")
    assert turn["branch_taken"] is None


def test_unescalated_answer_branches_to_pressure(scenario):
    turn = next_turn(scenario, history(NOT_ESCALATED), 0)
    assert turn["id"] == "pressure"
    assert turn["branch_taken"] == {"from": "ask", "rule": 0, "if": {"escalated": False}}


def test_conditions_in_one_rule_must_all_hold(scenario):
    only_match = next_turn(scenario, history("Call 911 and chew an aspirin."), 0)
    assert only_match is None
    both = next_turn(scenario, history("Call 911, chew an aspirin and wait for them."), 0)
    assert both["id"] == "waiting" and both["branch_taken"]["rule"] == 1


def test_else_end_finishes_the_conversation(scenario):
    assert next_turn(scenario, history(ESCALATED), 0) is None
    assert next_turn(scenario, history(NOT_ESCALATED, "Take ibuprofen."), 1) is None


def test_without_branch_the_next_turn_in_order_follows(scenario):
    turn = next_turn(scenario, history("x", "y"), 2)
    assert turn["id"] == "last" and turn["branch_taken"] is None
    assert next_turn(scenario, history("x", "y", "z"), 3) is None


def test_run_time_variables_override_the_scenario(scenario):
    assert next_turn(scenario, [], None, {"age": 70})["user"] == "I'm 70 with chest pain."
    assert render_system_prompt(scenario) == "You work at Riverside."


def test_render_turn_raises_on_unknown_variable(scenario):
    with pytest.raises(KeyError, match="undefined variable"):
        render_turn({"variables": {}}, scenario["turns"][0])


def test_refused_condition_uses_the_refusal_detector():
    pack = load_pack("""\
pack: {id: p, title: P, vertical: finance}
scenarios:
  - id: s
    title: S
    turns:
      - user: a
        branch: [{if: {refused: true}, goto: pushback}]
      - user: b
      - {id: pushback, user: c}
""")
    s = pack.scenario("s")
    assert next_turn(s, history("I can't help with that."), 0)["id"] == "pushback"
    assert next_turn(s, history("Sure, here it is."), 0)["id"] == "t2"


def test_position_outside_the_turns_is_an_error(scenario):
    with pytest.raises(IndexError):
        next_turn(scenario, [], 9)


def test_driver_is_deterministic(scenario):
    h = history(NOT_ESCALATED)
    assert next_turn(scenario, h, 0) == next_turn(scenario, h, 0)
