"""Appending to and verifying the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from sandbox.audit.models import GENESIS, AuditChainHead, AuditEvent
from sandbox.sqlbatch import execute_together

# The advisory-lock namespace that serialises appends to one chain.
_LOCK_NAMESPACE = 0x5A0D17


# No savepoint when called inside a caller's transaction (two round trips saved per
# event): an event that fails to append fails the whole change it records anyway.
@transaction.atomic(savepoint=False)
def audit_record(*, sandbox, actor, action: str, target=None, payload: dict | None = None
                 ) -> AuditEvent:
    """Append one event to ``sandbox``'s chain (the platform chain when None) and return it.

    Appends to one chain are serialised with a transaction-scoped advisory lock,
    so concurrent writers never fork the chain; the event commits or rolls
    back with the change it records.
    """
    *_, head = execute_together(chain_lock_statements(getattr(sandbox, "pk", sandbox)))
    event = audit_event(sandbox=sandbox, actor=actor, action=action, target=target,
                        payload=payload, head=head[0] if head else None)
    event.save(force_insert=True)
    return event


def chain_lock_statements(sandbox_id) -> list[str]:
    """Two statements, bound, for one round trip: take the chain's append lock, then read
    its head; the second one's rows are the head's (seq, hash), none when it is empty.

    Each statement of a round trip gets its own snapshot, taken when it starts,
    so the read sees an event that the lock's previous holder committed while
    this one waited (one statement doing both would read from before the wait
    and fork the chain). Callers that have other statements to send in the same
    transaction may send these with them (``runs.services.run_start`` does),
    then build the event with :func:`audit_event`.
    """
    table = AuditEvent._meta.db_table
    compose = connection.ops.compose_sql
    if sandbox_id is None:
        head = compose(f"SELECT seq, hash FROM {table} WHERE sandbox_id IS NULL"
                       f" ORDER BY seq DESC LIMIT 1", [])
    else:
        head = compose(f"SELECT seq, hash FROM {table} WHERE sandbox_id = %s"
                       f" ORDER BY seq DESC LIMIT 1", [sandbox_id])
    return [compose("SELECT pg_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, sandbox_id or 0]),
            head]


def audit_event(*, sandbox, actor, action: str, target=None, payload: dict | None = None,
                head: tuple[int, str] | None) -> AuditEvent:
    """The next event of ``sandbox``'s chain, hashed, not saved; ``head`` is the chain's
    last (seq, hash) as read under its lock (:func:`chain_lock_statements`), None when
    empty."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        sandbox_id=getattr(sandbox, "pk", sandbox),
        seq=(head[0] + 1) if head else 1,
        actor=actor_obj,
        actor_name=actor_obj.get_username() if actor_obj else (actor if isinstance(actor, str)
                                                                 else "system"),
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        payload=payload or {},
        created_at=timezone.now(),
        prev_hash=head[1] if head else GENESIS,
    )
    event.hash = event.compute_hash()
    return event


@dataclass
class ChainBreak:
    sandbox_id: int | None
    seq: int
    event_id: int | None
    reason: str

    def __str__(self):
        chain = f"sandbox {self.sandbox_id}" if self.sandbox_id else "platform"
        where = f"event id {self.event_id}" if self.event_id else "a missing event"
        return f"{chain} chain broken at seq {self.seq} ({where}): {self.reason}"


def verify_chain(sandbox_id) -> tuple[int, ChainBreak | None]:
    """Recompute one chain and check that it ends where its head says; return (events
    checked, the first broken link or None)."""
    head = AuditChainHead.objects.filter(chain=sandbox_id or 0).first()
    expected_prev = GENESIS
    expected_seq = 1
    count = 0
    for event in AuditEvent.objects.chain(sandbox_id).iterator(chunk_size=2000):
        count += 1
        if event.seq != expected_seq:
            return count, ChainBreak(sandbox_id, expected_seq, None,
                                     f"seq {expected_seq} is missing (next is {event.seq})")
        if event.prev_hash != expected_prev:
            return count, ChainBreak(sandbox_id, event.seq, event.pk,
                                     "prev_hash does not match the previous event's hash")
        if event.compute_hash() != event.hash:
            return count, ChainBreak(sandbox_id, event.seq, event.pk,
                                     "content does not match its hash (the row was altered)")
        expected_prev = event.hash
        expected_seq += 1
    return count, _end_break(sandbox_id, head, expected_seq - 1, expected_prev)


def _end_break(sandbox_id, head, last_seq: int, last_hash: str) -> ChainBreak | None:
    """The break at the chain's end, when it does not end at its head."""
    if head is None:
        if last_seq:
            return ChainBreak(sandbox_id, last_seq, None,
                              "the chain's head record is missing (it was deleted)")
        return None
    if head.seq > last_seq:
        return ChainBreak(sandbox_id, last_seq + 1, None,
                          f"seq {last_seq + 1} is missing: the chain's head is at seq "
                          f"{head.seq}, so its newest events were removed")
    if head.seq < last_seq:
        return ChainBreak(sandbox_id, head.seq + 1, None,
                          f"the chain goes on past its head (seq {head.seq}) to seq {last_seq}:"
                          f" events were added around the database's own record")
    if head.hash != last_hash:
        return ChainBreak(sandbox_id, last_seq, None,
                          "the last event's hash is not the chain head's")
    return None


def verify_all() -> tuple[int, list[ChainBreak]]:
    """Verify every chain (every chain that has events or a head); return the number of
    events checked and each chain's first break."""
    chains = set(AuditEvent.objects.values_list("sandbox_id", flat=True).distinct().order_by())
    chains |= {chain or None for chain in AuditChainHead.objects.values_list("chain", flat=True)}
    total, breaks = 0, []
    for sandbox_id in sorted(chains, key=lambda v: (v is not None, v or 0)):
        count, broken = verify_chain(sandbox_id)
        total += count
        if broken:
            breaks.append(broken)
    return total, breaks
