"""Sandboxes and the people who hold a role in them."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sandbox.core.roles import Cap, Role, roles_with


class Vertical(models.TextChoices):
    AUTOMOTIVE = "automotive", _("Automotive")
    MEDICAL = "medical", _("Medical")
    FINANCE = "finance", _("Finance")


class SandboxStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class SandboxQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Sandboxes in which ``user`` holds any role, annotated with ``my_role``.

        This is the gate every sandbox-scoped endpoint, page and websocket goes
        through: a sandbox outside it must answer "not found".
        """
        if user is None or not user.is_authenticated:
            return self.none()
        # One membership per (sandbox, user) (a unique constraint), so the join yields each
        # sandbox once and its role with it: no DISTINCT, no subquery.
        return self.filter(memberships__user=user).annotate(my_role=models.F("memberships__role"))

    def with_capability(self, user, cap: Cap):
        """Sandboxes in which ``user`` holds ``cap`` (results widen for experts after release)."""
        qs = self.visible_to(user)
        base = models.Q(my_role__in=roles_with(cap))
        released = roles_with(cap, released=True) - roles_with(cap)
        if released:
            base |= models.Q(my_role__in=released, results_released=True)
        return qs.filter(base)


class Sandbox(models.Model):
    name = models.CharField(_("name"), max_length=200)
    vertical = models.CharField(_("vertical"), max_length=20, choices=Vertical.choices)
    description = models.TextField(_("description"), blank=True)
    # The sandbox plan, as the EU AI Act's Art. 57(5) asks.
    plan_objectives = models.TextField(_("objectives"), blank=True)
    plan_timeframe_start = models.DateField(_("timeframe start"), null=True, blank=True)
    plan_timeframe_end = models.DateField(_("timeframe end"), null=True, blank=True)
    plan_methodology = models.TextField(_("methodology"), blank=True)
    plan_conditions = models.TextField(_("conditions"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=SandboxStatus.choices, default=SandboxStatus.DRAFT
    )
    suspension_reason = models.TextField(_("suspension reason"), blank=True)
    max_concurrent_runs = models.PositiveIntegerField(_("concurrent runs quota"), default=4)
    token_budget = models.PositiveBigIntegerField(
        _("token budget"), default=2_000_000, help_text=_("Total tokens all runs may generate.")
    )
    tokens_used = models.PositiveBigIntegerField(_("tokens used"), default=0)
    results_released = models.BooleanField(_("results released to experts"), default=False)
    raters_per_item = models.PositiveSmallIntegerField(_("experts per rating item"), default=3)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SandboxQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("sandbox")
        verbose_name_plural = _("sandboxes")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    plan_timeframe_end__isnull=True,
                )
                | models.Q(plan_timeframe_start__isnull=True)
                | models.Q(plan_timeframe_end__gte=models.F("plan_timeframe_start")),
                name="sandbox_timeframe_ordered",
            )
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("sandbox-detail", args=[self.pk])

    def role_of(self, user) -> str | None:
        """Return ``user``'s role in this sandbox, or None when they hold none."""
        if user is None or not user.is_authenticated:
            return None
        return (
            self.memberships.filter(user=user).values_list("role", flat=True).first()
        )

    @property
    def accepts_new_runs(self) -> bool:
        """New runs start only in an active sandbox (not draft, suspended or closed)."""
        return self.status == SandboxStatus.ACTIVE


class Membership(models.Model):
    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sandbox", "role", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "user"], name="one_role_per_sandbox"),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()} — {self.sandbox}"
