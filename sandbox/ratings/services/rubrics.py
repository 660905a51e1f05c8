"""Writes to a sandbox's rubric and rating settings; each leaves an audit event."""

from __future__ import annotations

import math

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox
from sandbox.ratings.models import RatingConfig, Rubric
from sandbox.ratings.rubric_format import check_objectives, default_objectives

# Advisory-lock namespace that serialises new rubric versions of one sandbox.
_RUBRIC_LOCK = 0x5A0D18


def _lock_rubrics(sandbox_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_RUBRIC_LOCK, sandbox_id])


@transaction.atomic
def rubric_create(*, sandbox: Sandbox, actor, objectives, note: str = "") -> Rubric:
    """Save ``objectives`` as the sandbox's next rubric version and return it.

    Raises ValidationError keyed by the field at fault (``objectives[1].scale`` ...).
    Earlier versions stay as they were: ratings keep pointing at the version they
    were given under.
    """
    checked = check_objectives(objectives)
    if len(note) > 300:
        raise ValidationError({"note": [_("Keep the note under 300 characters.")]})
    _lock_rubrics(sandbox.pk)
    latest = Rubric.objects.current_for(sandbox)
    rubric = Rubric.objects.create(sandbox=sandbox, version=(latest.version + 1) if latest else 1,
                                   objectives=checked, note=note,
                                   created_by=actor if getattr(actor, "is_authenticated", False)
                                   else None)
    audit_record(sandbox=sandbox, actor=actor, action="rubric.create", target=rubric,
                 payload={"version": rubric.version, "objectives": [o["key"] for o in checked],
                          "note": note})
    return rubric


@transaction.atomic
def rubric_ensure(*, sandbox: Sandbox, actor=None) -> Rubric:
    """Return the sandbox's current rubric, saving the vertical's defaults as version 1 if none."""
    _lock_rubrics(sandbox.pk)
    current = Rubric.objects.current_for(sandbox)
    if current is not None:
        return current
    return rubric_create(sandbox=sandbox, actor=actor, objectives=default_objectives(
        sandbox.vertical), note="vertical defaults")


def _fraction(name: str, value) -> float:
    if (isinstance(value, bool) or not isinstance(value, (int, float))
            or not math.isfinite(value) or not 0 <= value <= 1):
        raise ValidationError({name: [_("Give a number from 0 to 1.")]})
    return float(value)


@transaction.atomic
def rating_config_update(*, sandbox: Sandbox, actor, **fields) -> RatingConfig:
    """Change the sandbox's rating settings: ``gold_rate``, ``lease_minutes``,
    ``agreement_floor``; ``raters_per_item`` (k) is stored on the sandbox itself."""
    config = RatingConfig.objects.select_for_update().filter(sandbox=sandbox).first() \
        or RatingConfig(sandbox=sandbox)
    changes = {}
    for name, value in fields.items():
        if name in ("gold_rate", "agreement_floor"):
            value = _fraction(name, value)
        elif name == "lease_minutes":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1440:
                raise ValidationError({name: [_("Give whole minutes from 1 to 1440.")]})
        elif name == "raters_per_item":
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 50:
                raise ValidationError({name: [_("Give a whole number from 1 to 50.")]})
            if value != sandbox.raters_per_item:
                changes[name] = [sandbox.raters_per_item, value]
                Sandbox.objects.filter(pk=sandbox.pk).update(raters_per_item=value)
                sandbox.raters_per_item = value
            continue
        else:
            raise ValidationError({name: [_("This setting does not exist.")]})
        if getattr(config, name) != value:
            changes[name] = [getattr(config, name), value]
        setattr(config, name, value)
    config.save()
    audit_record(sandbox=sandbox, actor=actor, action="rating.settings", target=config,
                 payload={"changes": changes})
    return config
