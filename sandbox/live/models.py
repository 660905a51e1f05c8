"""What live viewers receive, kept so that a reconnecting viewer misses nothing."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sandbox.runs.models import Severity


class RunEvent(models.Model):
    """One message of a run's live stream, numbered by a per-run sequence that rises by one."""

    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="events")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    seq = models.PositiveBigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["run", "seq"], name="run_event_seq_unique"),
        ]

    def __str__(self):
        return f"run {self.run_id} #{self.seq} {self.type}"

    def as_message(self) -> dict:
        return {"type": self.type, "run": self.run_id, "seq": self.seq, **self.payload}


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

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.severity}: {self.note[:60]}"
