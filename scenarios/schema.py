"""The JSON Schema of a scenario pack, and the vocabularies it uses.

``PACK_SCHEMA`` is the single source of truth; ``docs/scenario-pack.schema.json``
is a copy written by ``python -m scenarios.schema docs/scenario-pack.schema.json``
(a test keeps the two equal). The schema checks the shape of a pack; rules that
need more than one field at a time (ids, gotos, variables, check parameters) are
checked by ``scenarios.loader``.

The custom keyword ``x-error`` holds the message the loader shows when a
``pattern`` does not match; JSON Schema validators ignore unknown keywords.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

VERTICALS = ("automotive", "medical", "finance")
LANGUAGES = ("en", "zh")
EXPECTS = ("answer", "refuse", "escalate")
KINDS = ("scenario", "bank")
BANKS = ("should_refuse", "should_not_refuse")
SEVERITIES = ("low", "medium", "high", "critical")

PROBE_KINDS = (
    "direct_injection",
    "indirect_injection",
    "jb_roleplay",
    "jb_prefix_injection",
    "jb_refusal_suppression",
    "jb_base64",
    "backdoor",
    "perturb_char",
    "perturb_word",
    "perturb_sentence",
    "perturb_semantic",
)
PROBE_GROUPS = {
    "injection": ("direct_injection", "indirect_injection"),
    "jailbreak": ("jb_roleplay", "jb_prefix_injection", "jb_refusal_suppression", "jb_base64"),
    "perturb": ("perturb_char", "perturb_word", "perturb_sentence", "perturb_semantic"),
}

RISK_PATTERN = r"^(A\.[1-5](\.[1-9][0-9]?)?|tag:[a-z0-9][a-z0-9_-]*)$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$"
TURN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$"
VARIABLE_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,59}$"
END = "end"

_TEXT = {"type": "string"}
_NONEMPTY_TEXT = {"type": "string", "minLength": 1}

_CHECK_SPEC = {
    "type": "object",
    "description": "An automated check: {type: <name>, ...params, severity}. Parameters are "
                   "validated per check type by the loader.",
    "required": ["type"],
    "properties": {
        "type": {"type": "string", "minLength": 1},
        "severity": {"enum": list(SEVERITIES)},
        "label": _TEXT,
    },
}

_CONDITION = {
    "type": "object",
    "description": "All given keys must hold (AND).",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "refused": {"type": "boolean"},
        "escalated": {"type": "boolean"},
        "matches": _NONEMPTY_TEXT,
        "not_matches": _NONEMPTY_TEXT,
        "contains": {
            "type": ["string", "array"],
            "items": _NONEMPTY_TEXT,
            "minItems": 1,
            "minLength": 1,
        },
    },
}

_BRANCH_RULE = {
    "type": "object",
    "description": "Either {if: <condition>, goto: <turn id|end>} or {else: <turn id|end>}.",
    "minProperties": 1,
    "additionalProperties": False,
    "properties": {
        "if": _CONDITION,
        "goto": _NONEMPTY_TEXT,
        "else": _NONEMPTY_TEXT,
    },
}

_TURN = {
    "type": "object",
    "required": ["user"],
    "additionalProperties": False,
    "properties": {
        "id": {
            "type": "string",
            "pattern": TURN_ID_PATTERN,
            "x-error": "a turn id uses letters, digits, '-' and '_' (at most 60)",
        },
        "user": _NONEMPTY_TEXT,
        "expect": {"enum": list(EXPECTS)},
        "checks": {"type": "array", "items": _CHECK_SPEC},
        "reference": {
            "type": ["string", "array"],
            "items": _NONEMPTY_TEXT,
            "minLength": 1,
        },
        "branch": {"type": "array", "minItems": 1, "items": _BRANCH_RULE},
        "notes": _TEXT,
    },
}

_SCENARIO = {
    "type": "object",
    "description": "A scripted scenario, or a bank item (kind: bank; title optional, prompt "
                   "shorthand for a single turn).",
    "required": ["id"],
    "additionalProperties": False,
    "properties": {
        "id": {
            "type": "string",
            "pattern": ID_PATTERN,
            "x-error": "an id starts with a letter or digit and uses letters, digits, "
                       "'.', '-' and '_' (at most 100)",
        },
        "title": _NONEMPTY_TEXT,
        "description": _TEXT,
        "vertical": {"enum": list(VERTICALS)},
        "language": {"enum": list(LANGUAGES)},
        "kind": {"enum": list(KINDS)},
        "bank": {"enum": list(BANKS)},
        "risk_categories": {
            "type": "array",
            "uniqueItems": True,
            "items": {
                "type": "string",
                "pattern": RISK_PATTERN,
                "x-error": "a risk category is a GB/T 45654 code A.1 to A.5, optionally with a "
                           "sub-risk (A.4.3), or a free tag like tag:jailbreak",
            },
        },
        "system_prompt": _TEXT,
        "variables": {
            "type": "object",
            "propertyNames": {
                "pattern": VARIABLE_PATTERN,
                "x-error": "a variable name is an identifier (letters, digits, '_')",
            },
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "probes": {
            "type": "array",
            "uniqueItems": True,
            "items": {"enum": list(PROBE_KINDS) + sorted(PROBE_GROUPS)},
        },
        "backdoor_trigger": _NONEMPTY_TEXT,
        "default_checks": {"type": "boolean"},
        "checks": {"type": "array", "items": _CHECK_SPEC},
        "prompt": _NONEMPTY_TEXT,
        "turns": {"type": "array", "minItems": 1, "items": _TURN},
        "notes": _TEXT,
    },
}

PACK_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://sandbox.invalid/schemas/scenario-pack.schema.json",
    "title": "Scenario pack",
    "description": "A YAML scenario pack for the vertical-domain LLM sandbox. "
                   "See docs/scenarios.md.",
    "type": "object",
    "required": ["pack", "scenarios"],
    "additionalProperties": False,
    "properties": {
        "pack": {
            "type": "object",
            "required": ["id", "title", "vertical"],
            "additionalProperties": False,
            "properties": {
                "id": _SCENARIO["properties"]["id"],
                "title": _NONEMPTY_TEXT,
                "vertical": {"enum": list(VERTICALS)},
                "language": {"enum": list(LANGUAGES)},
                "version": {
                    "type": "string",
                    "minLength": 1,
                    "x-error": "quote the version so YAML keeps it as text",
                },
                "description": _TEXT,
                "kind": {"enum": list(KINDS)},
                "bank": {"enum": list(BANKS)},
            },
        },
        "scenarios": {"type": "array", "minItems": 1, "items": _SCENARIO},
    },
}


def schema_json() -> str:
    """The schema as the JSON text stored in ``docs/scenario-pack.schema.json``."""
    return json.dumps(PACK_SCHEMA, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(schema_json(), encoding="utf-8")
