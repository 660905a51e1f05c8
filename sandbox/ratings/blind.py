"""What an expert may see of an item: the one representation the API and the page share.

It holds the conversation, the answer(s), the rubric and the expert's own lease and
progress. It never holds a model, run, session, turn or scenario id, a creation time,
the item's status, its number of ratings or anything another expert gave, nor whether
the item is gold. Tests compare its keys with this list.
"""

from __future__ import annotations

from sandbox.ratings.models import Assignment, Flag, RatingItem, Rubric
from sandbox.ratings.rubric_format import OVERALL, localised

ITEM_KEYS = frozenset({"id", "kind", "context", "answers", "rubric", "lease_expires_at",
                       "progress", "flags"})


def blind_rubric(rubric: Rubric, *, pair: bool, lang: str | None = None) -> dict:
    """The rubric as the expert rates with it, in one language.

    For a pair, ``preference_keys`` lists the keys that take a preference from -3
    (left answer, a, much better) to +3 (right answer, b, much better), ending with
    ``overall``; categorical objectives are not compared.
    """
    objectives = localised(rubric.objectives, lang)
    result = {"version": rubric.version, "objectives": objectives}
    if pair:
        result["preference_keys"] = [o["key"] for o in objectives
                                     if o["scale"] != "categorical"] + [OVERALL]
    return result


def blind_item(item: RatingItem, *, rubric: Rubric, lease: Assignment, progress,
               lang: str | None = None) -> dict:
    """The item as its expert sees it (see the module docstring for what is left out)."""
    context = item.context or {}
    turns = []
    for turn in context.get("turns", []):
        row = {"user": turn.get("user", ""), "a": turn.get("a", "")}
        if item.is_pair:
            row["b"] = turn.get("b", "")
        turns.append(row)
    answers = {"a": item.answer_a}
    if item.is_pair:
        answers["b"] = item.answer_b
    return {
        "id": str(item.pk),
        "kind": item.kind,
        "context": {"system": context.get("system", ""), "turns": turns,
                    "user": context.get("user", "")},
        "answers": answers,
        "rubric": blind_rubric(rubric, pair=item.is_pair, lang=lang),
        "lease_expires_at": lease.expires_at.isoformat(),
        "progress": {"done": progress.done, "remaining": progress.remaining},
        "flags": [{"value": f.value, "label": str(f.label)} for f in Flag],
    }
