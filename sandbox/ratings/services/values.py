"""Checking what an expert submits against the rubric: values, flags, rationale.

Every error is keyed by the field at fault (``values.helpfulness``, ``flags`` ...)
and says what is allowed; none mentions another expert or a model.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from sandbox.ratings.models import Flag, RatingItem, Rubric
from sandbox.ratings.rubric_format import OVERALL, PREFERENCE_SCALE, scale_of

MAX_RATIONALE = 5000


def expected_keys(*, item: RatingItem, rubric: Rubric) -> list[str]:
    """The value keys a rating of ``item`` needs under ``rubric``."""
    if item.is_pair:
        return [o["key"] for o in rubric.objectives if o["scale"] != "categorical"] + [OVERALL]
    return [o["key"] for o in rubric.objectives]


def check_values(*, item: RatingItem, rubric: Rubric, values: Any) -> dict:
    """Return ``values`` checked against ``rubric`` for ``item``'s kind, or raise ValidationError.

    Single answers need a value on every objective's scale; pairs a preference from -3
    to +3 (> 0 prefers the right answer, b) on every numeric objective and "overall".
    """
    if not isinstance(values, dict):
        raise ValidationError({"values": [_("Give an object mapping each objective to a "
                                            "value.")]})
    wanted = expected_keys(item=item, rubric=rubric)
    errors: dict[str, list[str]] = {}
    for key in values:
        if key not in wanted:
            errors[f"values.{key}"] = [_("“%(key)s” is not rated on this item under rubric "
                                         "version %(version)s.")
                                       % {"key": key, "version": rubric.version}]
    checked = {}
    for key in wanted:
        if key not in values or values[key] is None:
            errors[f"values.{key}"] = [_("This value is required.")]
            continue
        if item.is_pair:
            scale = PREFERENCE_SCALE
        else:
            scale = scale_of(rubric.objective(key))
        try:
            encoded = scale.encode(values[key])
        except ValueError as exc:
            errors[f"values.{key}"] = [_("%(value)s is not allowed: %(reason)s.")
                                       % {"value": repr(values[key]), "reason": exc}]
            continue
        checked[key] = values[key] if scale.kind == "categorical" else int(encoded)
    if errors:
        raise ValidationError(errors)
    return checked


def check_flags(flags: Any) -> list[str]:
    """Return the flags as a sorted list of known flag names, or raise ValidationError."""
    if flags in (None, ""):
        return []
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        raise ValidationError({"flags": [_("Give a list of flag names.")]})
    unknown = sorted(set(flags) - set(Flag.values))
    if unknown:
        raise ValidationError({"flags": [_("Unknown flags %(unknown)s; choose from %(known)s.")
                                         % {"unknown": ", ".join(unknown),
                                            "known": ", ".join(Flag.values)}]})
    return sorted(set(flags))


def check_rationale(rationale: Any) -> str:
    """Return the rationale text, or raise ValidationError."""
    if rationale in (None, ""):
        return ""
    if not isinstance(rationale, str):
        raise ValidationError({"rationale": [_("Give the rationale as text.")]})
    if len(rationale) > MAX_RATIONALE:
        raise ValidationError({"rationale": [_("Keep the rationale under %(n)s characters.")
                                             % {"n": MAX_RATIONALE}]})
    return rationale.strip()


def parse_uuid(value: Any) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (treated like an unknown id)."""
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
