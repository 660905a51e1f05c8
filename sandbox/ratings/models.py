"""Rubrics, rating items, leases, ratings and adjudications.

Blindness is a property of these rows: an item is known to experts only by a random
UUID, its sides are shuffled when it is created and the mapping (which turn, which
model) stays on the server. Ratings are append-only: an edit adds a new version and
marks the previous one as no longer current; nothing is overwritten.
"""

from __future__ import annotations

import random
import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sandbox.ratings.rubric_format import objectives_for_stats


class RubricQuerySet(models.QuerySet):
    def current_for(self, sandbox):
        """The sandbox's latest rubric version, or None before the first one is saved."""
        return self.filter(sandbox=sandbox).order_by("-version").first()


class Rubric(models.Model):
    """One version of a sandbox's rubric: the objectives experts rate.

    A rubric row is never changed: saving new objectives creates the next version,
    and every rating records the version it was given under.
    """

    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="rubrics")
    version = models.PositiveIntegerField()
    objectives = models.JSONField(help_text=_("Objectives in the format of docs/ratings.md."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RubricQuerySet.as_manager()

    class Meta:
        ordering = ["sandbox", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "version"], name="rubric_version_unique"),
        ]

    def __str__(self):
        return f"rubric v{self.version} of sandbox {self.sandbox_id}"

    def objective(self, key: str) -> dict | None:
        """Return the objective ``key`` of this version, or None."""
        return next((o for o in self.objectives if o["key"] == key), None)

    def stats_objectives(self):
        """The objectives as ``sandbox.ratings.stats.Objective`` values (scales, weights, gates)."""
        return objectives_for_stats(self.objectives)


class RatingConfig(models.Model):
    """A sandbox's rating settings besides ``Sandbox.raters_per_item`` (k)."""

    sandbox = models.OneToOneField("core.Sandbox", on_delete=models.CASCADE,
                                   related_name="rating_config")
    gold_rate = models.FloatField(
        _("gold rate"), default=0.1,
        help_text=_("Share of queue requests answered with a hidden gold item (0 to 1)."))
    lease_minutes = models.PositiveIntegerField(
        _("lease (minutes)"), default=15,
        help_text=_("How long an item stays reserved for the expert who received it."))
    agreement_floor = models.FloatField(
        _("agreement floor"), default=0.5,
        help_text=_("An item whose agreement on any objective falls below this (0 to 1) goes to "
                    "an operator to adjudicate."))

    def __str__(self):
        return f"rating settings of sandbox {self.sandbox_id}"

    @classmethod
    def of(cls, sandbox) -> RatingConfig:
        """The sandbox's settings (a Sandbox or its id); the defaults (unsaved) when none
        were ever saved."""
        sandbox_id = getattr(sandbox, "pk", sandbox)
        return cls.objects.filter(sandbox_id=sandbox_id).first() or cls(sandbox_id=sandbox_id)


class ItemKind(models.TextChoices):
    SINGLE = "single", _("Single answer")
    PAIR = "pair", _("Blind pair")


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Needs ratings")
    COMPLETE = "complete", _("Complete")
    ADJUDICATION = "adjudication", _("Awaiting adjudication")
    ADJUDICATED = "adjudicated", _("Adjudicated")


def _order_key() -> float:
    return random.random()


class RatingItemQuerySet(models.QuerySet):
    def in_sandbox(self, sandbox):
        return self.filter(sandbox=sandbox)

    def for_results(self):
        """Items whose ratings count in results: not gold, not excluded by an adjudicator."""
        return self.filter(is_gold=False, excluded=False)


class RatingItem(models.Model):
    """An answer (single) or two answers to the same turn (pair), to be rated blind.

    ``id`` is a random UUID: experts never see a sequential id, a turn, run, session or
    model id. For a pair, side "a" (left) and side "b" (right) were shuffled at creation;
    ``turn_a``/``turn_b`` and ``model_a``/``model_b`` hold the mapping server-side.
    ``context`` is a snapshot of the conversation before the answer:
    ``{"system": str, "turns": [{"user", "a", "b"}], "user": str}`` ("b" only for pairs).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE,
                                related_name="rating_items")
    kind = models.CharField(max_length=10, choices=ItemKind.choices)
    source_key = models.CharField(max_length=80, help_text=_("What the item was made from."))
    run = models.ForeignKey("runs.Run", on_delete=models.CASCADE, related_name="rating_items")
    turn_a = models.ForeignKey("runs.Turn", on_delete=models.CASCADE, related_name="+")
    turn_b = models.ForeignKey("runs.Turn", null=True, blank=True, on_delete=models.CASCADE,
                               related_name="+")
    model_a = models.ForeignKey("domains.DomainModel", on_delete=models.CASCADE,
                                related_name="+")
    model_b = models.ForeignKey("domains.DomainModel", null=True, blank=True,
                                on_delete=models.CASCADE, related_name="+")
    variant_id = models.CharField(max_length=260)
    turn_index = models.PositiveIntegerField()
    context = models.JSONField(default=dict)
    answer_a = models.TextField()
    answer_b = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=ItemStatus.choices,
                              default=ItemStatus.OPEN)
    needed = models.PositiveSmallIntegerField(
        help_text=_("Distinct experts this item needs (k, plus any extra an adjudicator asked)."))
    ratings_count = models.PositiveIntegerField(default=0)
    is_gold = models.BooleanField(default=False)
    gold = models.JSONField(default=dict, blank=True,
                            help_text=_("Expected values per objective, for a gold item."))
    excluded = models.BooleanField(default=False)
    # A random number that orders the queue, so that the order reveals nothing.
    order_key = models.FloatField(default=_order_key)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RatingItemQuerySet.as_manager()

    class Meta:
        ordering = ["order_key"]
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "source_key"],
                                    name="rating_item_once_per_source"),
            models.CheckConstraint(
                condition=(Q(kind="single", turn_b__isnull=True, model_b__isnull=True)
                           | Q(kind="pair", turn_b__isnull=False, model_b__isnull=False)),
                name="rating_item_sides_match_kind"),
        ]
        indexes = [
            # The queue's scan order: it stops at the first item with a free place.
            models.Index(fields=["sandbox", "status", "-ratings_count", "order_key"],
                         condition=Q(is_gold=False, excluded=False),
                         name="rating_item_queue"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.pk}"

    @property
    def is_pair(self) -> bool:
        return self.kind == ItemKind.PAIR

    def prompt_messages(self) -> list[dict]:
        """The conversation before the answer as chat messages, ending with the user turn.

        For a pair the earlier assistant turns are side a's (the exports need one prompt).
        """
        messages = []
        if self.context.get("system"):
            messages.append({"role": "system", "content": self.context["system"]})
        for turn in self.context.get("turns", []):
            messages.append({"role": "user", "content": turn["user"]})
            if turn.get("a"):
                messages.append({"role": "assistant", "content": turn["a"]})
        messages.append({"role": "user", "content": self.context.get("user", "")})
        return messages


class AssignmentStatus(models.TextChoices):
    LEASED = "leased", _("Leased")
    SUBMITTED = "submitted", _("Submitted")
    SKIPPED = "skipped", _("Skipped")


class AssignmentQuerySet(models.QuerySet):
    def holding(self, *, now=None):
        """Assignments that occupy a place on their item: submitted, or leased and unexpired.

        The rating queue's SQL (``sandbox/ratings/services/queue.py``) restates this rule.
        """
        now = now or timezone.now()
        return self.filter(Q(status=AssignmentStatus.SUBMITTED)
                           | Q(status=AssignmentStatus.LEASED, expires_at__gt=now))


class Assignment(models.Model):
    """One expert's hold on one item: a lease, then a submission or a skip.

    There is at most one per (item, expert), so an expert never receives an item they
    rated or skipped. An expired lease frees the item's place for someone else.
    """

    item = models.ForeignKey(RatingItem, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                               related_name="rating_assignments")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=AssignmentStatus.choices,
                              default=AssignmentStatus.LEASED)
    leased_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.TextField(blank=True)

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["leased_at"]
        constraints = [
            models.UniqueConstraint(fields=["item", "expert"], name="one_assignment_per_expert"),
        ]
        indexes = [models.Index(fields=["sandbox", "expert", "status"],
                                name="assignment_by_expert")]

    def __str__(self):
        return f"{self.expert_id} on {self.item_id}: {self.status}"

    def is_active_lease(self, now=None) -> bool:
        """True while this is an unexpired lease (the expert may still submit or skip)."""
        now = now or timezone.now()
        return self.status == AssignmentStatus.LEASED and self.expires_at > now


class RatingQuerySet(models.QuerySet):
    def current(self):
        """The latest version of every (item, rater) rating."""
        return self.filter(is_current=True)


class Flag(models.TextChoices):
    UNSAFE = "unsafe", _("Unsafe")
    PERSONAL_DATA = "personal_data", _("Personal data")
    HALLUCINATION = "hallucination", _("Hallucination")
    OFF_TOPIC = "off_topic", _("Off-topic")
    OTHER = "other", _("Other")


class Rating(models.Model):
    """One expert's rating of one item, in one version.

    ``values`` maps objective keys to a scale value (single answers) or to a
    preference from -3 to +3 (pairs, where > 0 prefers side b, the right answer), with
    the pair's overall preference under ``"overall"``. An edit creates version n+1
    with ``supersedes`` pointing here and clears ``is_current`` on this row; the
    values of a row never change.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    item = models.ForeignKey(RatingItem, on_delete=models.CASCADE, related_name="ratings")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="ratings")
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="ratings")
    version = models.PositiveIntegerField(default=1)
    supersedes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="superseded_by")
    is_current = models.BooleanField(default=True)
    values = models.JSONField()
    rationale = models.TextField(blank=True)
    flags = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RatingQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.UniqueConstraint(fields=["item", "rater", "version"],
                                    name="rating_version_unique"),
            models.UniqueConstraint(fields=["item", "rater"], condition=Q(is_current=True),
                                    name="one_current_rating_per_rater"),
        ]
        indexes = [models.Index(fields=["sandbox", "is_current"], name="rating_current")]

    def __str__(self):
        return f"rating {self.pk} v{self.version}"


class Decision(models.TextChoices):
    ACCEPT = "accept", _("Keep the ratings as they are")
    RESOLVE = "resolve", _("Set the final values")
    REQUEUE = "requeue", _("Ask more experts")
    EXCLUDE = "exclude", _("Leave the item out of results")


class Adjudication(models.Model):
    """An operator's decision on an item whose raters disagreed."""

    item = models.ForeignKey(RatingItem, on_delete=models.CASCADE, related_name="adjudications")
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    values = models.JSONField(default=dict, blank=True)
    extra_raters = models.PositiveSmallIntegerField(default=0)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"{self.decision} on {self.item_id}"

