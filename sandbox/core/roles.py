"""The role matrix: who may do what inside one sandbox.

This is the one place where roles turn into permissions. Views, API
permission classes, websocket consumers and exports ask :func:`can` (or
``Sandbox.objects.with_capability``); none of them compares role names.
"""

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    OPERATOR = "operator", _("Pilot operator")
    EXPERT = "expert", _("Domain expert")
    REGULATOR = "regulator", _("Regulator")


class Cap(StrEnum):
    """Capabilities inside a sandbox."""

    VIEW = "view"  # see that the sandbox exists, its plan and members
    CONFIGURE = "configure"  # edit the sandbox, members, models, scenarios, runs, rubrics
    MONITOR = "monitor"  # read transcripts, watch live runs, see alerts (reveals model identity)
    OVERSEE = "oversee"  # halt runs, suspend the sandbox, annotate turns
    RATE = "rate"  # take items from the rating queue and submit ratings
    RESULTS = "results"  # read results and exports (experts only after release)
    AUDIT = "audit"  # read and export the audit trail


MATRIX: dict[Cap, frozenset[str]] = {
    Cap.VIEW: frozenset({Role.OPERATOR, Role.EXPERT, Role.REGULATOR}),
    Cap.CONFIGURE: frozenset({Role.OPERATOR}),
    Cap.MONITOR: frozenset({Role.OPERATOR, Role.REGULATOR}),
    Cap.OVERSEE: frozenset({Role.REGULATOR}),
    Cap.RATE: frozenset({Role.EXPERT}),
    Cap.RESULTS: frozenset({Role.OPERATOR, Role.REGULATOR}),
    Cap.AUDIT: frozenset({Role.OPERATOR, Role.REGULATOR}),
}

# Capabilities an expert gains once an operator releases the sandbox's results.
AFTER_RELEASE: dict[Cap, frozenset[str]] = {
    Cap.RESULTS: frozenset({Role.EXPERT}),
}


def roles_with(cap: Cap, *, released: bool = False) -> frozenset[str]:
    """Return the roles that hold ``cap`` (widened after results are released)."""
    roles = MATRIX[cap]
    if released and cap in AFTER_RELEASE:
        roles = roles | AFTER_RELEASE[cap]
    return roles


def can(role: str | None, cap: Cap, *, released: bool = False) -> bool:
    """Return whether a member holding ``role`` has ``cap``; no role means no capability."""
    return role is not None and role in roles_with(cap, released=released)
