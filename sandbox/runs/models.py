"""Runs of scenarios against domain models, and what they produced.

A Run fans out into one Session per (scenario, variant, model); each Session
is executed by one procrastinate job and produces Turns. A Turn is written
once, when it is complete (or failed, or halted), so a crash never loses a
completed turn and a resumed job starts after the last saved one.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    HALTED = "halted", _("Halted")


FINISHED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.HALTED)
ACTIVE = (RunStatus.QUEUED, RunStatus.RUNNING)  # counted by the concurrent-runs quota


class Severity(models.TextChoices):
    INFO = "info", _("Info")
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


SEVERITY_ORDER = {s.value: i for i, s in enumerate(Severity)}


class RunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=ACTIVE)


class Run(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="runs")
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=20, choices=RunStatus.choices,
                              default=RunStatus.QUEUED)
    with_variants = models.BooleanField(_("with attack variants"), default=False)
    options = models.JSONField(default=dict, blank=True)
    turns_total = models.PositiveIntegerField(default=0)
    turns_done = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveBigIntegerField(default=0)
    halted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    halt_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Highest sequence number given to a live event of this run (see sandbox.live).
    event_seq = models.PositiveBigIntegerField(default=0)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("run")
        verbose_name_plural = _("runs")

    def __str__(self):
        return f"Run {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED


class Session(models.Model):
    """One conversation: a scenario (or one of its variants) played against one model."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="sessions")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE,
                                related_name="sessions")
    scenario = models.ForeignKey("scenarios.Scenario", on_delete=models.PROTECT,
                                 related_name="sessions")
    model = models.ForeignKey("domains.DomainModel", on_delete=models.PROTECT,
                              related_name="sessions")
    variant_kind = models.CharField(max_length=60, blank=True,
                                    help_text=_("Empty for the clean original."))
    variant_id = models.CharField(max_length=260, help_text=_("Scenario id, or <origin>~<kind>"))
    spec = models.JSONField(help_text=_("The scenario (or variant) exactly as played."))
    status = models.CharField(max_length=20, choices=RunStatus.choices,
                              default=RunStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    tokens_used = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "variant_id", "model"],
                                    name="one_session_per_variant_and_model"),
        ]

    def __str__(self):
        return f"{self.variant_id} × {self.model}"


class TurnStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    HALTED = "halted", _("Halted")
    CANCELLED = "cancelled", _("Cancelled")


class Turn(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="turns")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="turns")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="turns")
    index = models.PositiveIntegerField(help_text=_("Position in the conversation, from 0."))
    turn_key = models.CharField(max_length=120, blank=True,
                                help_text=_("The scripted turn's id in the scenario."))
    user_message = models.TextField()
    assistant_message = models.TextField(blank=True)
    expect = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, choices=TurnStatus.choices)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField()
    first_token_ms = models.FloatField(null=True, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    retrieved_chunks = models.JSONField(default=list, blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)

    class Meta:
        ordering = ["session", "index"]
        constraints = [
            models.UniqueConstraint(fields=["session", "index"], name="turn_once_per_position"),
        ]
        indexes = [models.Index(fields=["run", "completed_at"])]

    def __str__(self):
        return f"{self.session} turn {self.index}"


class CheckResult(models.Model):
    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="checks")
    check_name = models.CharField(max_length=120)
    passed = models.BooleanField()
    score = models.FloatField(null=True, blank=True)
    severity = models.CharField(max_length=20, choices=Severity.choices, blank=True)
    alert = models.BooleanField(default=False)
    evidence = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["turn", "id"]

    def __str__(self):
        return f"{self.check_name}: {'pass' if self.passed else 'fail'}"


class Alert(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="alerts")
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="alerts")
    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="alerts")
    check_result = models.OneToOneField(CheckResult, on_delete=models.CASCADE,
                                        related_name="alert_record")
    severity = models.CharField(max_length=20, choices=Severity.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.severity}: {self.message[:60]}"
