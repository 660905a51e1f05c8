"""Errors a pack author can cause, each pinned to a file, a line and a field."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class ErrorItem:
    """One mistake in a pack.

    ``line`` is 1-based (0 when the whole file is concerned, e.g. an empty file);
    ``field`` is a dotted path such as ``scenarios[2].turns[0].expect`` (empty
    when the mistake is not tied to a field, e.g. a YAML syntax error).
    """

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:"
        if self.field:
            return f"{where} {self.field}: {self.message}"
        return f"{where} {self.message}"

    def to_dict(self) -> dict:
        return asdict(self)


class ScenarioError(ValueError):
    """A pack failed to load; ``errors`` lists every mistake found, in line order."""

    def __init__(self, errors: list[ErrorItem]):
        self.errors = sorted(set(errors), key=lambda e: (e.file, e.line, e.field, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))

    def to_list(self) -> list[dict]:
        """The errors as JSON-serializable dicts (for an API or a form)."""
        return [e.to_dict() for e in self.errors]
