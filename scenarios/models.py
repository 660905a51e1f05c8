"""Scenario packs imported into a sandbox.

The scenario language itself (schema, loader, probes, checks) is plain Python
in this package; these models only store what was imported.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScenarioPack(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE, related_name="packs")
    pack_id = models.CharField(_("pack id"), max_length=120)
    title = models.CharField(_("title"), max_length=300, blank=True)
    version = models.CharField(_("version"), max_length=40, blank=True)
    source_name = models.CharField(_("source file"), max_length=300, blank=True)
    source = models.TextField(_("YAML source"))
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sandbox", "pack_id"]
        verbose_name = _("scenario pack")
        verbose_name_plural = _("scenario packs")
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "pack_id"], name="pack_unique_in_sandbox"),
        ]

    def __str__(self):
        return self.title or self.pack_id


class ScenarioKind(models.TextChoices):
    SCENARIO = "scenario", _("Scenario")
    BANK = "bank", _("Question bank item")


class Scenario(models.Model):
    sandbox = models.ForeignKey("core.Sandbox", on_delete=models.CASCADE,
                                related_name="scenarios")
    pack = models.ForeignKey(ScenarioPack, on_delete=models.CASCADE, related_name="scenarios")
    scenario_id = models.CharField(_("scenario id"), max_length=200)
    title = models.CharField(_("title"), max_length=300)
    vertical = models.CharField(_("vertical"), max_length=20)
    language = models.CharField(_("language"), max_length=10)
    kind = models.CharField(_("kind"), max_length=20, choices=ScenarioKind.choices,
                            default=ScenarioKind.SCENARIO)
    bank = models.CharField(_("bank"), max_length=40, blank=True)
    risk_categories = models.JSONField(_("risk categories"), default=list)
    spec = models.JSONField(_("normalized scenario"))
    retired = models.BooleanField(
        _("removed from its pack"), default=False,
        help_text=_("A re-import of its pack dropped it; it is kept for the runs that played "
                    "it, and new runs do not play it."))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sandbox", "pack", "scenario_id"]
        verbose_name = _("scenario")
        verbose_name_plural = _("scenarios")
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "scenario_id"],
                                    name="scenario_unique_in_sandbox"),
        ]

    def __str__(self):
        return f"{self.scenario_id}: {self.title}"
