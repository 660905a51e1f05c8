"""The expert's queue: leasing the next item, skipping one, counting progress.

An item holds ``needed`` places; a place is taken by a submitted rating or by another
expert's unexpired lease. Leasing locks the item's row (``FOR UPDATE SKIP LOCKED``, so
concurrent experts fan out over different items) and recounts its places under the
lock, so an item never gets more experts than it needs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox
from sandbox.ratings.models import (
    Assignment,
    AssignmentStatus,
    ItemStatus,
    RatingConfig,
    RatingItem,
)
from sandbox.ratings.services.values import parse_uuid

# How many locked-then-full candidates to step over before giving up on one request.
_MAX_TRIES = 8


def item_has_room(item: RatingItem, *, now, other_than=None) -> bool:
    """Whether ``item`` has a free place now (gold items always do); lock the item first."""
    if item.is_gold:
        return True
    taken = Assignment.objects.filter(item=item).holding(now=now)
    if other_than is not None:
        taken = taken.exclude(pk=other_than.pk)
    return taken.count() < item.needed


def _lease(item: RatingItem, expert, *, now, minutes: int) -> Assignment:
    return Assignment.objects.create(item=item, expert=expert, sandbox_id=item.sandbox_id,
                                     leased_at=now, expires_at=now + timedelta(minutes=minutes))


def _renew(assignment: Assignment, *, now, minutes: int) -> Assignment:
    assignment.leased_at = now
    assignment.expires_at = now + timedelta(minutes=minutes)
    assignment.save(update_fields=["leased_at", "expires_at"])
    return assignment


# The queue's two hot statements, in SQL: an expert asks for an item every few seconds, and
# the ORM's compilation of these (subqueries, row locks) cost more than PostgreSQL's work.
# They restate two rules of the models; a change to either must be made here too:
# "holding" = submitted, or leased and unexpired (AssignmentQuerySet.holding), and an item
# is offered to an expert when open, not gold, not excluded, and never held by them.
_HOLDERS = """(SELECT count(*) FROM {assignment} h WHERE h.item_id = {of} AND
               (h.status = '{submitted}' OR (h.status = '{leased}' AND h.expires_at > %(now)s)))"""

_PICK = """
SELECT i.* FROM {item} i
 WHERE i.sandbox_id = %(sandbox)s AND i.status = '{open}' AND NOT i.is_gold AND NOT i.excluded
   AND NOT EXISTS (SELECT 1 FROM {assignment} m WHERE m.item_id = i.id
                                                  AND m.expert_id = %(expert)s)
   AND {holders} < i.needed
   AND i.id <> ALL(%(skipped)s)
 ORDER BY i.ratings_count DESC, i.order_key
 LIMIT 1 FOR UPDATE OF i {wait}"""

# Recounts the places under the item's row lock (a new statement sees every lease committed
# by whoever held the lock before) and leases only when one is free.
_LEASE = """
INSERT INTO {assignment} (item_id, expert_id, sandbox_id, status, leased_at, expires_at,
                          skip_reason)
SELECT %(item)s, %(expert)s, %(sandbox)s, '{leased}', %(now)s, %(expires)s, ''
 WHERE {holders} < %(needed)s
RETURNING id"""


def _sql(template: str, **extra) -> str:
    """``template`` with the tables' names and the status values (constants of the models,
    never user input) filled in."""
    names = {"item": RatingItem._meta.db_table, "assignment": Assignment._meta.db_table,
             "open": ItemStatus.OPEN.value, "submitted": AssignmentStatus.SUBMITTED.value,
             "leased": AssignmentStatus.LEASED.value}
    return template.format(**names, **extra)


def _pick(*, sandbox, expert, now, skipped: list, wait: bool) -> RatingItem | None:
    """Lock and return the open item with the most ratings (then by ``order_key``) that
    ``expert`` never held and that seemed to have a free place; skip items locked by a
    concurrent lease unless ``wait``."""
    sql = _sql(_PICK, holders=_sql(_HOLDERS, of="i.id"), wait="" if wait else "SKIP LOCKED")
    found = list(RatingItem.objects.raw(sql, {"sandbox": sandbox.pk, "expert": expert.pk,
                                              "now": now, "skipped": skipped}))
    return found[0] if found else None


def _lease_if_room(item: RatingItem, expert, *, now, minutes: int) -> Assignment | None:
    expires = now + timedelta(minutes=minutes)
    with connection.cursor() as cursor:
        cursor.execute(_sql(_LEASE, holders=_sql(_HOLDERS, of="%(item)s")),
                       {"item": item.pk, "expert": expert.pk, "sandbox": item.sandbox_id,
                        "now": now, "expires": expires, "needed": item.needed})
        row = cursor.fetchone()
    if row is None:
        return None
    return Assignment(id=row[0], item=item, expert=expert, sandbox_id=item.sandbox_id,
                      status=AssignmentStatus.LEASED, leased_at=now, expires_at=expires)


@transaction.atomic
def assignment_next(*, sandbox: Sandbox, expert) -> Assignment | None:
    """Lease ``expert`` their next item and return the lease; None when nothing is left.

    The expert's unexpired lease is returned (and renewed) first, so reloading the page
    shows the same item. Otherwise, with probability ``gold_rate``, a gold item they
    have not seen; else the open item with the most ratings (ties in random order)
    that they never held, rated or skipped and that has a free place. Nothing is
    leased once the sandbox's results are released.
    """
    if sandbox.results_released:
        return None
    with connection.cursor() as cursor:
        # A lease is soft state (lost on a crash, the expert simply gets an item again),
        # so its commit need not wait for the disk; ratings keep synchronous commits.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
    now = timezone.now()
    config = RatingConfig.of(sandbox)
    mine = (Assignment.objects.select_for_update(of=("self",))
            .filter(sandbox=sandbox, expert=expert, status=AssignmentStatus.LEASED)
            .select_related("item").order_by("-expires_at"))
    for held in mine:
        if held.expires_at > now:
            return _renew(held, now=now, minutes=config.lease_minutes)
        item = RatingItem.objects.select_for_update(skip_locked=True).filter(pk=held.item_id)\
            .first()
        if item is not None and not item.excluded and item_has_room(item, now=now, other_than=held):
            held.item = item
            return _renew(held, now=now, minutes=config.lease_minutes)

    if config.gold_rate and random.random() < config.gold_rate:
        gold = (RatingItem.objects.filter(sandbox=sandbox, is_gold=True, excluded=False)
                .exclude(assignments__expert=expert).order_by("order_key")
                .select_for_update(skip_locked=True, of=("self",)).first())
        if gold is not None:
            return _lease(gold, expert, now=now, minutes=config.lease_minutes)

    skipped: list = []
    for _try in range(_MAX_TRIES):
        item = _pick(sandbox=sandbox, expert=expert, now=now, skipped=skipped, wait=False)
        if item is None:
            # Every candidate is locked by a concurrent lease: wait for one rather than
            # answer "nothing left" while places may remain.
            item = _pick(sandbox=sandbox, expert=expert, now=now, skipped=skipped, wait=True)
        if item is None:
            return None
        lease = _lease_if_room(item, expert, now=now, minutes=config.lease_minutes)
        if lease is not None:
            return lease
        skipped.append(item.pk)
    return None


@transaction.atomic
def assignment_skip(*, sandbox: Sandbox, expert, item_id, reason: str) -> Assignment:
    """Skip a leased item with a reason; it is never offered to this expert again."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why you skip this item.")]})
    if len(reason) > 1000:
        raise ValidationError({"reason": [_("Keep the reason under 1000 characters.")]})
    assignment = (Assignment.objects.select_for_update()
                  .filter(sandbox=sandbox, expert=expert, item_id=parse_uuid(item_id),
                          status=AssignmentStatus.LEASED).first())
    if assignment is None:
        raise ValidationError({"item": [_("This item is not leased to you.")]})
    assignment.status = AssignmentStatus.SKIPPED
    assignment.finished_at = timezone.now()
    assignment.skip_reason = reason
    assignment.save(update_fields=["status", "finished_at", "skip_reason"])
    audit_record(sandbox=sandbox, actor=expert, action="rating.skip", target=assignment.item,
                 payload={"reason": reason})
    return assignment


@dataclass(frozen=True)
class Progress:
    done: int
    remaining: int


def queue_progress(*, sandbox: Sandbox, expert) -> Progress:
    """How many items the expert rated and how many more they may still be offered.

    ``remaining`` counts open items (gold ones left out) that the expert never held; some
    of them may fill up with other experts' ratings before this expert reaches them.
    """
    with connection.cursor() as cursor:
        cursor.execute(_sql(_PROGRESS), {"sandbox": sandbox.pk, "expert": expert.pk})
        done, remaining = cursor.fetchone()
    return Progress(done=done, remaining=remaining)


_PROGRESS = """
SELECT (SELECT count(*) FROM {assignment}
         WHERE sandbox_id = %(sandbox)s AND expert_id = %(expert)s AND status = '{submitted}'),
       (SELECT count(*) FROM {item} i
         WHERE i.sandbox_id = %(sandbox)s AND i.status = '{open}' AND NOT i.is_gold
           AND NOT i.excluded
           AND NOT EXISTS (SELECT 1 FROM {assignment} m WHERE m.item_id = i.id
                                                          AND m.expert_id = %(expert)s))"""
