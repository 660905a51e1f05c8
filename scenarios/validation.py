"""Checks of a pack that span fields: ids, gotos, variables, banks, check specs.

Each function takes the parsed data (which may be malformed where the schema
already complained; every access is guarded) and returns ErrorItems.
"""

from __future__ import annotations

import difflib
import re

from scenarios.checks import get_check, load_domain_checks
from scenarios.checks.registry import check_names
from scenarios.errors import ErrorItem
from scenarios.schema import END
from scenarios.schema_errors import schema_errors
from scenarios.yamlsource import Path, Source, format_path

PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
BANK_EXPECT = {"should_refuse": "refuse", "should_not_refuse": "answer"}


class Collector:
    """Collects ErrorItems for one file, with lines looked up from the source."""

    def __init__(self, source: Source, filename: str):
        self.source = source
        self.filename = filename
        self.errors: list[ErrorItem] = []

    def add(self, path: Path, message: str) -> None:
        self.errors.append(ErrorItem(self.filename, self.source.line_of(path),
                                     format_path(path), message))


def _dicts(value: object) -> list[tuple[int, dict]]:
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)] \
        if isinstance(value, list) else []


def pack_defaults(data: dict) -> dict:
    pack = data.get("pack") if isinstance(data.get("pack"), dict) else {}
    return {"vertical": pack.get("vertical"), "language": pack.get("language", "en"),
            "kind": pack.get("kind", "scenario"), "bank": pack.get("bank")}


def validate_pack(data: dict, source: Source, filename: str) -> list[ErrorItem]:
    """Every semantic error of the pack (the schema has been checked separately)."""
    load_domain_checks()
    out = Collector(source, filename)
    defaults = pack_defaults(data)
    pack = data.get("pack") if isinstance(data.get("pack"), dict) else {}
    if pack.get("bank") and defaults["kind"] != "bank":
        out.add(("pack", "bank"), "bank is only allowed with kind: bank")
    seen: dict[str, int] = {}
    for i, scenario in _dicts(data.get("scenarios")):
        path: Path = ("scenarios", i)
        sid = scenario.get("id")
        if isinstance(sid, str):
            if sid in seen:
                first = source.line_of(("scenarios", seen[sid]))
                out.add((*path, "id"), f"duplicate scenario id {sid!r} (first at line {first})")
            else:
                seen[sid] = i
        _validate_scenario(scenario, path, defaults, out)
    return out.errors


def _validate_scenario(scenario: dict, path: Path, defaults: dict, out: Collector) -> None:
    vertical = scenario.get("vertical")
    if vertical and defaults["vertical"] and vertical != defaults["vertical"]:
        out.add((*path, "vertical"), f"{vertical!r} does not match the pack's vertical "
                                     f"{defaults['vertical']!r}")
    kind = scenario.get("kind", defaults["kind"])
    bank = scenario.get("bank", defaults["bank"] if kind == "bank" else None)
    if kind == "bank" and not bank:
        out.add((*path, "bank"), "a bank item needs bank: should_refuse or should_not_refuse "
                                 "(on the item or in pack)")
    if kind != "bank" and "bank" in scenario:
        out.add((*path, "bank"), "bank is only allowed with kind: bank")
    if kind != "bank" and "title" not in scenario:
        out.add((*path, "title"), "missing required field")
    has_turns, has_prompt = "turns" in scenario, "prompt" in scenario
    if has_prompt and has_turns:
        out.add((*path, "prompt"), "give either prompt or turns, not both")
    elif has_prompt and kind != "bank":
        out.add((*path, "prompt"), "prompt is the shorthand of bank items; use turns")
    elif not has_prompt and not has_turns:
        out.add((*path, "turns"), "missing required field (or prompt, for a bank item)")
    turns = _dicts(scenario.get("turns"))
    if kind == "bank":
        _validate_bank_item(scenario, path, bank, out)
    _validate_turn_ids_and_branches(turns, path, out)
    _validate_variables(scenario, path, turns, out)
    for j, spec in _dicts(scenario.get("checks")):
        _validate_check(spec, (*path, "checks", j), turns, out, scenario_level=True)
    for t, turn in turns:
        for j, spec in _dicts(turn.get("checks")):
            _validate_check(spec, (*path, "turns", t, "checks", j), [(t, turn)], out)


def _validate_bank_item(scenario: dict, path: Path, bank: str | None, out: Collector) -> None:
    turns = scenario.get("turns")
    if isinstance(turns, list) and len(turns) > 1:
        out.add((*path, "turns"), f"a bank item has exactly one turn, found {len(turns)}")
    for t, turn in _dicts(turns):
        expect = turn.get("expect")
        wanted = BANK_EXPECT.get(bank or "")
        if expect and wanted and expect != wanted:
            out.add((*path, "turns", t, "expect"),
                    f"{expect!r} contradicts bank {bank}, whose items expect {wanted!r}")
        if "branch" in turn:
            out.add((*path, "turns", t, "branch"), "a bank item cannot branch")


def _validate_turn_ids_and_branches(turns: list[tuple[int, dict]], path: Path,
                                    out: Collector) -> None:
    index: dict[str, int] = {}
    for t, turn in turns:
        tid = turn.get("id")
        if isinstance(tid, str):
            if tid == END:
                out.add((*path, "turns", t, "id"), f"{END!r} is reserved for goto: end")
            elif tid in index:
                out.add((*path, "turns", t, "id"), f"duplicate turn id {tid!r} "
                                                   f"(first used by turns[{index[tid]}])")
            else:
                index[tid] = t
    for t, turn in turns:
        rules = _dicts(turn.get("branch"))
        for r, rule in rules:
            rpath = (*path, "turns", t, "branch", r)
            if "else" in rule:
                if "if" in rule or "goto" in rule:
                    out.add(rpath, "an else rule has no 'if' or 'goto': write {else: <turn id>}")
                if r != len(rules) - 1:
                    out.add((*rpath, "else"), "else must be the last rule")
                target_key = "else"
            else:
                if "if" not in rule:
                    out.add(rpath, "a rule needs 'if' with 'goto', or is {else: <turn id>}")
                if "goto" not in rule:
                    out.add(rpath, "an 'if' rule needs 'goto'")
                target_key = "goto"
                _validate_condition(rule.get("if"), (*rpath, "if"), out)
            target = rule.get(target_key)
            if not isinstance(target, str) or target == END:
                continue
            if target not in index:
                known = ", ".join(sorted(index)) or "none (give turns an id)"
                out.add((*rpath, target_key), f"{target!r} is not a turn id of this scenario "
                                              f"(known: {known})")
            elif index[target] <= t:
                out.add((*rpath, target_key), f"{target!r} is turns[{index[target]}], not after "
                                              f"this turn; branches only jump forward")


def _validate_condition(condition: object, path: Path, out: Collector) -> None:
    if not isinstance(condition, dict):
        return
    for key in ("matches", "not_matches"):
        pattern = condition.get(key)
        if isinstance(pattern, str):
            try:
                re.compile(pattern)
            except re.error as exc:
                out.add((*path, key), f"invalid regular expression: {exc}")


def _validate_variables(scenario: dict, path: Path, turns: list[tuple[int, dict]],
                        out: Collector) -> None:
    variables = scenario.get("variables") if isinstance(scenario.get("variables"), dict) else {}
    fields: list[tuple[Path, object]] = [((*path, "system_prompt"), scenario.get("system_prompt")),
                                         ((*path, "prompt"), scenario.get("prompt"))]
    for t, turn in turns:
        fields.append(((*path, "turns", t, "user"), turn.get("user")))
    for fpath, text in fields:
        if not isinstance(text, str):
            continue
        for m in PLACEHOLDER.finditer(text):
            name = m.group(1).strip()
            if not _IDENTIFIER.match(name):
                out.add(fpath, f"malformed placeholder {m.group(0)!r}")
            elif name not in variables:
                known = f"; defined: {', '.join(sorted(variables))}" if variables else ""
                out.add(fpath, f"undefined variable {{{{{name}}}}}{known}")


def _validate_check(spec: dict, path: Path, turns: list[tuple[int, dict]], out: Collector, *,
                    scenario_level: bool = False) -> None:
    name = spec.get("type")
    if not isinstance(name, str):
        return
    check = get_check(name)
    if check is None:
        close = difflib.get_close_matches(name, check_names(), n=1)
        out.add((*path, "type"), f"unknown check type {name!r}"
                                 + (f" (did you mean '{close[0]}'?)" if close else ""))
        return
    out.errors += schema_errors(spec, check.spec_schema(), out.source, out.filename, path)
    if check.validate:
        for param, message in check.validate(spec):
            out.add((*path, param), message)
    if check.needs_reference and "reference" not in spec:
        missing = [t for t, turn in turns if not turn.get("reference")]
        if missing:
            where = "every turn" if scenario_level else "the turn"
            out.add(path, f"{name} needs a reference answer: give reference on {where} "
                          f"or in the check")
