"""Scripted demo models: YAML files of regex rules that map a user message to a reply.

File shape (``fixtures/scripted_models/<vertical>.yaml``)::

    models:
      - name: careful-med
        version: "1.0"
        vendor: Demo Health AI
        description: ...
        rules:
          - match: "chest pain|胸痛"      # regex, searched case-insensitively
            reply: "..."
        default: "..."

The first rule whose ``match`` is found in the last user message gives the
reply, else ``default``. The platform's LangChain adapter has its own scripted
chat model; this module is the reference reading of the format, used to
validate the fixtures and to drive tests without Django.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from scenarios.errors import ErrorItem, ScenarioError
from scenarios.schema_errors import schema_errors
from scenarios.yamlsource import format_path, parse

_TEXT = {"type": "string", "minLength": 1}
SCRIPTED_MODELS_SCHEMA = {
    "type": "object",
    "required": ["models"],
    "additionalProperties": False,
    "properties": {"models": {"type": "array", "minItems": 1, "items": {
        "type": "object",
        "required": ["name", "version", "rules", "default"],
        "additionalProperties": False,
        "properties": {
            "name": _TEXT, "version": _TEXT, "vendor": {"type": "string"},
            "description": {"type": "string"}, "default": _TEXT,
            "rules": {"type": "array", "items": {
                "type": "object", "required": ["match", "reply"], "additionalProperties": False,
                "properties": {"match": _TEXT, "reply": _TEXT},
            }},
        },
    }}},
}


@dataclass(frozen=True)
class ScriptedModel:
    name: str
    version: str
    vendor: str
    description: str
    rules: tuple[tuple[re.Pattern, str], ...]
    default: str

    def reply(self, user_message: str) -> str:
        """The reply of the first rule matching ``user_message``, else the default."""
        for pattern, reply in self.rules:
            if pattern.search(user_message or ""):
                return reply
        return self.default

    def script(self) -> dict:
        """The model as the plain dict stored in ``DomainModel.script``."""
        return {"name": self.name, "version": self.version, "vendor": self.vendor,
                "description": self.description, "default": self.default,
                "rules": [{"match": p.pattern, "reply": r} for p, r in self.rules]}


def load_scripted_models(text: str, filename: str = "<string>") -> list[ScriptedModel]:
    """Parse a scripted-models file; raise ScenarioError (with lines) on any mistake."""
    source, errors = parse(text, filename)
    if source.data is None:
        raise ScenarioError(errors)
    errors += schema_errors(source.data, SCRIPTED_MODELS_SCHEMA, source, filename)
    if errors:
        raise ScenarioError(errors)
    models = []
    for i, m in enumerate(source.data["models"]):
        rules = []
        for j, rule in enumerate(m["rules"]):
            path = ("models", i, "rules", j, "match")
            try:
                rules.append((re.compile(rule["match"], re.IGNORECASE), rule["reply"]))
            except re.error as exc:
                errors.append(ErrorItem(filename, source.line_of(path), format_path(path),
                                        f"invalid regular expression: {exc}"))
        models.append(ScriptedModel(m["name"], m["version"], m.get("vendor", ""),
                                    m.get("description", ""), tuple(rules), m["default"]))
    if errors:
        raise ScenarioError(errors)
    return models


def load_scripted_models_file(path: str | Path) -> list[ScriptedModel]:
    return load_scripted_models(Path(path).read_text(encoding="utf-8"), str(path))
