"""What live viewers receive, kept so that a reconnecting viewer misses nothing."""

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sandbox.runs.models import Severity


class RunEventQuerySet(models.QuerySet):
    def after(self, run_id: int, seq: int, *, until: int | None = None):
        """The run's events with a sequence number above ``seq`` (and up to ``until``), in order."""
        qs = self.filter(run_id=run_id, seq__gt=seq)
        if until is not None:
            qs = qs.filter(seq__lte=until)
        return qs.order_by("seq")


class RunEvent(models.Model):
    """One message of a run's live stream, numbered by a per-run sequence that rises by one."""

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="events")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RunEventQuerySet.as_manager()

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="run_event_seq_unique"),
        ]

    def __str__(self):
        return f"run {self.run_id} #{self.seq} {self.type}"

    def as_message(self) -> dict:
        """The message exactly as live viewers receive it (see docs/live-protocol.md)."""
        return {"type": self.type, "run": self.run_id, "seq": self.seq, **self.payload}


class AnnotationQuerySet(models.QuerySet):
    def of_run(self, run):
        return self.filter(run=run).select_related("turn", "author").order_by("created_at", "id")


class Annotation(models.Model):
    """A regulator's note on a turn."""

    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE,
                                related_name="annotations")
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="annotations")
    turn = models.ForeignKey("runs.Turn", on_delete=models.CASCADE, related_name="annotations")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                               related_name="+")
    note = models.TextField(_("note"))
    severity = models.CharField(_("severity"), max_length=20, choices=Severity.choices,
                                default=Severity.INFO)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.severity}: {self.note[:60]}"

    def as_payload(self) -> dict:
        """The ``annotation`` live event's payload (the run id and seq are added by publish)."""
        return {"annotation": self.pk, "session": self.turn.session_id, "turn": self.turn.index,
                "turn_id": self.turn_id, "severity": self.severity, "note": self.note,
                "author": self.author.get_username() if self.author else "",
                "created_at": self.created_at.isoformat()}


def ticket_digest(key: str) -> str:
    """Tickets are stored as SHA-256 digests, so a database reader cannot replay one."""
    return hashlib.sha256(key.encode()).hexdigest()


class WsTicket(models.Model):
    """A one-time pass for a script's websocket connection: valid 30 s, used at most once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self):
        return f"ticket of {self.user_id} until {self.expires_at:%H:%M:%S}"

    @property
    def is_usable(self) -> bool:
        """True while the ticket has neither expired nor been used."""
        return self.used_at is None and self.expires_at > timezone.now()
