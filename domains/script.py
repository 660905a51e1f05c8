"""The script of a scripted domain model: ordered regex rules and a default reply.

Stored in ``DomainModel.script`` as ``{"rules": [{"match": regex, "reply": text}, ...],
"default": text}``, optionally with ``token_delay`` (seconds between streamed words, for
demos of live viewing). The first rule whose ``match`` is found (case-insensitively)
in the last user message gives the reply, else ``default``.
"""

from __future__ import annotations

import re


def script_errors(script) -> list[str]:
    """Every problem with ``script``'s shape, each naming where it is (empty when valid)."""
    if not isinstance(script, dict):
        return ["must be an object with “rules” and “default”."]
    errors = []
    unknown = sorted(set(script) - {"rules", "default", "token_delay"})
    if unknown:
        errors.append(f"unknown key(s): {', '.join(unknown)} "
                      "(allowed: rules, default, token_delay).")
    delay = script.get("token_delay", 0)
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not 0 <= delay <= 5:
        errors.append("token_delay: a number of seconds from 0 to 5.")
    default = script.get("default")
    if not isinstance(default, str) or not default.strip():
        errors.append("default: a non-empty reply is required.")
    rules = script.get("rules", [])
    if not isinstance(rules, list):
        return [*errors, "rules: must be a list of {match, reply}."]
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if not isinstance(rule, dict):
            errors.append(f"{where}: must be an object with “match” and “reply”.")
            continue
        extra = sorted(set(rule) - {"match", "reply"})
        if extra:
            errors.append(f"{where}: unknown key(s): {', '.join(extra)}.")
        match, reply = rule.get("match"), rule.get("reply")
        if not isinstance(match, str) or not match:
            errors.append(f"{where}.match: a regular expression is required.")
        else:
            try:
                re.compile(match, re.IGNORECASE)
            except re.error as exc:
                errors.append(f"{where}.match: invalid regular expression: {exc}.")
        if not isinstance(reply, str) or not reply.strip():
            errors.append(f"{where}.reply: a non-empty reply is required.")
    return errors


def script_reply(script: dict, user_message: str) -> str:
    """The reply ``script`` gives to ``user_message`` (assumes a valid script)."""
    for rule in script.get("rules", []):
        if re.search(rule["match"], user_message or "", re.IGNORECASE):
            return rule["reply"]
    return script["default"]
