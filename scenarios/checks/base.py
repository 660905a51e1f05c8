"""The data every check produces and receives."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field

Embed = Callable[[list[str]], list[list[float]] | Awaitable[list[list[float]]]]
Judge = Callable[[str], Awaitable[str]]


@dataclass(frozen=True)
class CheckResult:
    """What one check found about one answer.

    ``score`` is the check's metric when it has one (documented per check),
    else None. ``evidence`` is JSON-serializable: matched spans as
    ``{"start", "end", "text", ...}`` with offsets into the answer, metric
    values, or ``{"skipped": reason}`` / ``{"error": message}``. ``severity`` is
    the configured severity (None means the check never alerts); ``alert`` is
    true exactly when the check failed and has a severity.
    """

    check: str
    passed: bool
    score: float | None = None
    evidence: dict = field(default_factory=dict)
    severity: str | None = None
    alert: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What a check function returns; the runner turns it into a CheckResult.

    ``severity`` lets a check choose its severity from what it found (the
    ``expectation`` check does); a ``severity`` in the YAML spec wins over it.
    """

    passed: bool
    score: float | None = None
    evidence: dict = field(default_factory=dict)
    severity: str | None = None


@dataclass
class CheckContext:
    """What checks may use besides the answer.

    ``embed`` maps texts to vectors (or returns an awaitable of them, when the
    embedder waits on an endpoint: ``sandbox.runs.hooks.embedder``); ``judge``
    sends a rubric prompt to the judge model and returns its text (async).
    ``history`` holds the messages before the answer being checked
    (``{"role", "content"}``, the current user
    message included); domain checks read red flags from it.
    """

    vertical: str | None = None
    embed: Embed | None = None
    judge: Judge | None = None
    history: list[dict] = field(default_factory=list)

    def user_texts(self, turn: dict) -> list[str]:
        """The user's messages of the conversation so far, the current turn included."""
        texts = [m.get("content", "") for m in self.history if m.get("role") == "user"]
        current = turn.get("user", "")
        if current and (not texts or texts[-1] != current):
            texts.append(current)
        return texts


def skipped(reason: str) -> Outcome:
    """A check that could not run: it passes with no score and says why."""
    return Outcome(passed=True, score=None, evidence={"skipped": reason})


def span(match: re.Match, offset: int = 0, **extra) -> dict:
    """Evidence for one regex match: offsets into the checked text and the text matched."""
    return {
        "start": match.start() + offset,
        "end": match.end() + offset,
        "text": match.group(0),
        **extra,
    }
