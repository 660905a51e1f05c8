"""The ``similarity`` check: cosine similarity of embeddings of answer and reference."""

from __future__ import annotations

import inspect
import math
from collections.abc import Awaitable

from scenarios.checks.base import CheckContext, Outcome, skipped
from scenarios.checks.reference import references_of
from scenarios.checks.registry import register_check


def cosine(a: list[float], b: list[float]) -> float:
    """Cosine similarity; 0.0 when either vector is zero."""
    if len(a) != len(b):
        raise ValueError(f"embedding sizes differ: {len(a)} != {len(b)}")
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@register_check(
    "similarity",
    params={
        "min": {"type": "number", "minimum": -1, "maximum": 1},
        "reference": {"type": ["string", "array"], "items": {"type": "string", "minLength": 1},
                      "minLength": 1, "minItems": 1},
    },
    needs_reference=True,
)
def similarity_check(spec: dict, *, answer: str, turn: dict, scenario: dict,
                     ctx: CheckContext) -> Outcome:
    """The answer's embedding is close to a reference's: cosine at least ``min`` (default 0.8).

    Needs ``ctx.embed``; skipped without it. When ``ctx.embed`` returns an
    awaitable (an endpoint's embedder in a thread), so does the check. Score: the
    best cosine.
    """
    refs = references_of(spec, turn)
    if not refs:
        return skipped("no reference answer")
    if ctx.embed is None:
        return skipped("no embedding function in this context")
    vectors = ctx.embed([answer or "", *refs])
    threshold = spec.get("min", 0.8)
    if inspect.isawaitable(vectors):  # an endpoint's embedder, run off the event loop
        return _scored_later(vectors, len(refs), threshold)
    return _scored(vectors, len(refs), threshold)


async def _scored_later(vectors: Awaitable, refs: int, threshold: float) -> Outcome:
    return _scored(await vectors, refs, threshold)


def _scored(vectors: list[list[float]], refs: int, threshold: float) -> Outcome:
    if len(vectors) != refs + 1:
        raise ValueError(f"embed returned {len(vectors)} vectors for {refs + 1} texts")
    scores = [cosine(vectors[0], v) for v in vectors[1:]]
    best = max(range(len(scores)), key=scores.__getitem__)
    return Outcome(passed=scores[best] >= threshold, score=scores[best],
                   evidence={"metric": "cosine", "value": scores[best], "min": threshold,
                             "reference_index": best})
