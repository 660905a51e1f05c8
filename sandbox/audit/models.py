"""The append-only, hash-chained audit trail.

Each sandbox has its own chain (events with no sandbox form the platform
chain), so that one sandbox's trail can be exported and verified without
revealing anything of another. A database trigger refuses UPDATE and DELETE
on the table (TRUNCATE is left to the table's owner: see migration 0002);
``verify_audit`` recomputes every hash.

A hash chain shows a changed or removed event by the break it leaves, but not
the removal of its newest events, which leaves a shorter, intact chain. So
each chain's head -- its last event's position and hash -- is kept apart
(:class:`AuditChainHead`), written by the database itself as every event is
inserted, and may only move forward; the verifier compares the chain's end
with it.
"""

import hashlib
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

GENESIS = "0" * 64


def canonical_json(value) -> str:
    """Serialise ``value`` deterministically (sorted keys, no spaces) for hashing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), cls=DjangoJSONEncoder,
                      ensure_ascii=False)


class AuditEventQuerySet(models.QuerySet):
    def chain(self, sandbox_id):
        """The events of one chain in the order they were appended."""
        return self.filter(sandbox_id=sandbox_id).order_by("seq")


class AuditEvent(models.Model):
    sandbox = models.ForeignKey(
        "core.Sandbox", null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    seq = models.PositiveBigIntegerField(_("position in the chain"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80)
    target_type = models.CharField(_("target type"), max_length=80, blank=True)
    target_id = models.CharField(_("target id"), max_length=80, blank=True)
    payload = models.JSONField(_("payload"), default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("time"))
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["sandbox_id", "seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "seq"], name="audit_seq_unique_per_chain",
                                    nulls_distinct=False),
        ]

    def __str__(self):
        return f"#{self.seq} {self.action} by {self.actor_name or '-'}"

    def hashed_content(self) -> dict:
        """The fields the hash covers, in a form that survives a database round trip."""
        return {
            "sandbox": self.sandbox_id,
            "seq": self.seq,
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "action": self.action,
            "target_type": self.target_type,
            "target_id": self.target_id,
            "payload": json.loads(canonical_json(self.payload)),
            "created_at": self.created_at.isoformat(timespec="microseconds"),
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        """SHA-256 over the previous event's hash and this event's content."""
        return hashlib.sha256(canonical_json(self.hashed_content()).encode()).hexdigest()

    def as_export(self) -> dict:
        """One JSONL line of the audit export."""
        return {**self.hashed_content(), "hash": self.hash}


class AuditChainHead(models.Model):
    """Where one chain ends: its last event's ``seq`` and ``hash``.

    Written only by the database (migration 0003): a trigger on
    ``audit_auditevent`` moves the head on every insert, and a trigger on this
    table refuses DELETE and any UPDATE that does not move ``seq`` forward.
    ``chain`` is the sandbox's id, 0 for the platform chain.
    """

    chain = models.BigIntegerField(primary_key=True)
    seq = models.PositiveBigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")

    def __str__(self):
        return f"chain {self.chain} at seq {self.seq}"
