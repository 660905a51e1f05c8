"""Rating items from a run's transcripts, and gold items."""

from __future__ import annotations

import secrets
from collections import defaultdict
from itertools import combinations

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.ratings.models import ItemKind, ItemStatus, RatingItem, Rubric
from sandbox.ratings.services.rubrics import rubric_ensure
from sandbox.ratings.services.values import check_values
from sandbox.runs.models import Run, Turn, TurnStatus
from scenarios.script import render_system_prompt

# Advisory-lock namespace that serialises item creation for one run.
_ITEMS_LOCK = 0x5A0D19


def _system_prompt(spec: dict, run: Run) -> str:
    try:
        return render_system_prompt(spec, (run.options or {}).get("variables"))
    except KeyError:
        # A placeholder the run did not fill: show the prompt as written.
        return spec.get("system_prompt", "") or ""


def _history(turns: list[Turn], before: int) -> list[Turn]:
    return [t for t in turns if t.index < before]


def _context(run: Run, turn: Turn, history_a: list[Turn], history_b: list[Turn] | None) -> dict:
    b_by_index = {t.index: t for t in history_b or []}
    rows = []
    for t in history_a:
        row = {"user": t.user_message, "a": t.assistant_message}
        if history_b is not None:
            other = b_by_index.get(t.index)
            row["b"] = other.assistant_message if other else ""
        rows.append(row)
    return {"system": _system_prompt(turn.session.spec or {}, run), "turns": rows,
            "user": turn.user_message}


@transaction.atomic
def rating_items_create_for_run(*, run: Run, actor=None) -> int:
    """Create the run's rating items; return how many were new (0 when called again).

    A single-answer item for every completed turn with an answer, and a blind pair for
    every two models that answered the same scenario (same ``variant_id``), turn index
    and user message. Each pair's sides are shuffled with a cryptographic random choice;
    the mapping stays on the server. Items need ``Sandbox.raters_per_item`` experts.
    Calls are idempotent (items are keyed by the turns they come from) and serialised
    per run.
    """
    sandbox = run.sandbox
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_ITEMS_LOCK, run.pk])
    rubric_ensure(sandbox=sandbox, actor=actor)
    all_turns = list(Turn.objects.filter(run=run).select_related("session")
                     .order_by("session_id", "index"))
    by_session: dict[int, list[Turn]] = defaultdict(list)
    for t in all_turns:
        by_session[t.session_id].append(t)
    answered = [t for t in all_turns
                if t.status == TurnStatus.COMPLETED and t.assistant_message.strip()]
    existing = set(RatingItem.objects.filter(run=run).values_list("source_key", flat=True))
    rng = secrets.SystemRandom()
    k = sandbox.raters_per_item
    new: list[RatingItem] = []

    for t in answered:
        key = f"single:{t.pk}"
        if key not in existing:
            new.append(RatingItem(
                sandbox=sandbox, kind=ItemKind.SINGLE, source_key=key, run=run, turn_a=t,
                model_a_id=t.session.model_id, variant_id=t.session.variant_id,
                turn_index=t.index, answer_a=t.assistant_message, needed=k,
                context=_context(run, t, _history(by_session[t.session_id], t.index), None)))

    groups: dict[tuple, list[Turn]] = defaultdict(list)
    for t in answered:
        groups[(t.session.variant_id, t.index, t.user_message)].append(t)
    for group in groups.values():
        for first, second in combinations(sorted(group, key=lambda t: t.pk), 2):
            if first.session.model_id == second.session.model_id:
                continue
            key = f"pair:{first.pk}:{second.pk}"
            if key in existing:
                continue
            a, b = (first, second) if rng.random() < 0.5 else (second, first)
            new.append(RatingItem(
                sandbox=sandbox, kind=ItemKind.PAIR, source_key=key, run=run, turn_a=a,
                turn_b=b, model_a_id=a.session.model_id, model_b_id=b.session.model_id,
                variant_id=a.session.variant_id, turn_index=a.index, answer_a=a.assistant_message,
                answer_b=b.assistant_message, needed=k,
                context=_context(run, a, _history(by_session[a.session_id], a.index),
                                 _history(by_session[b.session_id], b.index))))
    rng.shuffle(new)  # creation order must not follow the models either
    RatingItem.objects.bulk_create(new)
    if new:
        audit_record(sandbox=sandbox, actor=actor, action="rating.items_create", target=run,
                     payload={"created": len(new),
                              "single": sum(1 for i in new if i.kind == ItemKind.SINGLE),
                              "pair": sum(1 for i in new if i.kind == ItemKind.PAIR)})
    return len(new)


@transaction.atomic
def rating_item_mark_gold(*, item: RatingItem, actor, values: dict) -> RatingItem:
    """Make ``item`` a hidden gold item with the expected ``values`` (same shape as a rating).

    A gold item is served to experts at the sandbox's gold rate, looks like any other
    item, and is left out of model results; its ratings measure each rater's accuracy.
    """
    item = RatingItem.objects.select_for_update().get(pk=item.pk)
    rubric = Rubric.objects.current_for(item.sandbox) or rubric_ensure(sandbox=item.sandbox,
                                                                        actor=actor)
    if item.excluded:
        raise ValidationError({"item": [_("This item is excluded from results; it cannot be "
                                          "gold.")]})
    item.gold = {"values": check_values(item=item, rubric=rubric, values=values),
                 "rubric_version": rubric.version}
    item.is_gold = True
    item.status = ItemStatus.OPEN
    item.save(update_fields=["gold", "is_gold", "status"])
    audit_record(sandbox=item.sandbox, actor=actor, action="rating.gold", target=item,
                 payload={"values": item.gold["values"]})
    return item
