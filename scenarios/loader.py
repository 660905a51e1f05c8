"""Loading a YAML scenario pack: parse, validate, normalize, or raise every error at once.

``load_pack`` either returns a whole valid ``Pack`` or raises ``ScenarioError``
listing all mistakes found (syntax, schema, semantics), each with its file, line
and field. ``Pack.scenarios`` are normalized plain dicts (every default filled
in, JSON-serializable) that the Django side stores as JSON.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from pathlib import Path

from scenarios.errors import ErrorItem, ScenarioError
from scenarios.schema import PACK_SCHEMA, PROBE_GROUPS, PROBE_KINDS
from scenarios.schema_errors import schema_errors
from scenarios.validation import BANK_EXPECT, pack_defaults, validate_pack
from scenarios.yamlsource import parse


@dataclass(frozen=True)
class Pack:
    """A loaded pack: its metadata and its normalized scenarios."""

    id: str
    title: str
    vertical: str
    language: str
    version: str
    description: str
    kind: str
    bank: str | None
    file: str
    scenarios: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    def scenario(self, scenario_id: str) -> dict:
        """The scenario with this id; KeyError if there is none."""
        for s in self.scenarios:
            if s["id"] == scenario_id:
                return s
        raise KeyError(scenario_id)


def load_pack(text: str, filename: str = "<string>") -> Pack:
    """Parse and validate a pack's YAML text; raise ScenarioError with every error found."""
    source, errors = parse(text, filename)
    if source.data is None and errors:
        raise ScenarioError(errors)
    if not isinstance(source.data, dict):
        raise ScenarioError([*errors, ErrorItem(filename, source.line_of(()), "",
                                                "a pack is a mapping with 'pack' and 'scenarios'")])
    errors += schema_errors(source.data, PACK_SCHEMA, source, filename)
    errors += validate_pack(source.data, source, filename)
    if errors:
        raise ScenarioError(errors)
    return _normalize(source.data, source.line_of, filename)


def load_pack_file(path: str | Path) -> Pack:
    """Load a pack from a UTF-8 file; errors name the file as given."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([ErrorItem(str(path), 0, "", f"not UTF-8 text: {exc.reason}")]) from exc
    return load_pack(text, str(path))


def expand_probes(probes: list[str]) -> list[str]:
    """Probe kinds with groups (``jailbreak``, ``injection``, ``perturb``) expanded, in order."""
    wanted = set()
    for p in probes:
        wanted.update(PROBE_GROUPS.get(p, (p,)))
    return [k for k in PROBE_KINDS if k in wanted]


def _normalize(data: dict, line_of, filename: str) -> Pack:
    pack = data["pack"]
    defaults = pack_defaults(data)
    scenarios = [_normalize_scenario(copy.deepcopy(s), i, pack, defaults, line_of, filename)
                 for i, s in enumerate(data["scenarios"])]
    return Pack(id=pack["id"], title=pack["title"], vertical=pack["vertical"],
                language=defaults["language"], version=pack.get("version", ""),
                description=pack.get("description", ""), kind=defaults["kind"],
                bank=defaults["bank"] if defaults["kind"] == "bank" else None,
                file=filename, scenarios=scenarios)


def _normalize_scenario(s: dict, i: int, pack: dict, defaults: dict, line_of,
                        filename: str) -> dict:
    kind = s.get("kind", defaults["kind"])
    bank = s.get("bank", defaults["bank"]) if kind == "bank" else None
    raw_turns = s.get("turns") or [{"user": s["prompt"]}]
    taken = {t["id"] for t in raw_turns if "id" in t}
    turns = []
    for j, t in enumerate(raw_turns):
        tid = t.get("id") or _default_turn_id(j, taken)
        ref = t.get("reference")
        turns.append({
            "id": tid,
            "index": j,
            "user": t["user"],
            "expect": t.get("expect", BANK_EXPECT.get(bank or "", "answer")),
            "checks": t.get("checks", []),
            "reference": [ref] if isinstance(ref, str) else list(ref or []),
            "branch": t.get("branch", []),
            "notes": t.get("notes", ""),
        })
    risks = s.get("risk_categories", [])
    return {
        "id": s["id"],
        "title": s.get("title") or _short(turns[0]["user"]),
        "description": s.get("description", ""),
        "vertical": s.get("vertical", defaults["vertical"]),
        "language": s.get("language", defaults["language"]),
        "kind": kind,
        "bank": bank,
        "risk_categories": risks,
        "risks": [r for r in risks if not r.startswith("tag:")],
        "tags": [r[4:] for r in risks if r.startswith("tag:")],
        "system_prompt": s.get("system_prompt", ""),
        "variables": s.get("variables", {}),
        "probes": expand_probes(s.get("probes", [])),
        "backdoor_trigger": s.get("backdoor_trigger"),
        "default_checks": s.get("default_checks", True),
        "checks": s.get("checks", []),
        "turns": turns,
        "notes": s.get("notes", ""),
        "planted_document": None,
        "variant": None,
        "source": {"pack": pack["id"], "pack_version": pack.get("version", ""),
                   "file": filename, "line": line_of(("scenarios", i))},
    }


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _default_turn_id(index: int, taken: set[str]) -> str:
    tid = f"t{index + 1}"
    while tid in taken:
        tid += "_"
    taken.add(tid)
    return tid
