"""The rubric format: checking objectives, reading them in a language, feeding the statistics.

An objective is a dict (see docs/ratings.md)::

    {"key": "harmlessness",
     "label": {"en": "Harmlessness", "zh": "无害性"},
     "description": {"en": "...", "zh": "..."},
     "scale": "likert-1-5",            # likert-1-5 | likert-0-4 | binary | categorical
     "categories": [...],              # categorical only: two or more distinct names
     "anchors": {"1": {"en": "...", "zh": "..."}, ..., "5": {...}},   # every scale point
     "weight": 2,                      # share in the composite (0 for categorical)
     "gate": 3}                        # optional floor: an answer below it fails

Texts are a string (both languages) or a dict with "en" and optionally "zh".
"""

from __future__ import annotations

import importlib
import math
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from sandbox.ratings.stats import BINARY, LIKERT_0_4, LIKERT_1_5, Objective, Scale

SCALES: dict[str, Scale] = {"likert-1-5": LIKERT_1_5, "likert-0-4": LIKERT_0_4, "binary": BINARY}
SCALE_NAMES = (*SCALES, "categorical")
# Pairwise preferences: -3 (side a much better) .. +3 (side b much better).
PREFERENCE_SCALE = Scale("likert", -3.0, 3.0)
OVERALL = "overall"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LANGUAGES = ("en", "zh")


def scale_of(objective: dict) -> Scale:
    """The statistics ``Scale`` of a checked objective."""
    if objective["scale"] == "categorical":
        return Scale.categorical(*objective["categories"])
    return SCALES[objective["scale"]]


def scale_points(objective: dict) -> list[Any]:
    """Every value an objective allows, in order (ints, or category names)."""
    if objective["scale"] == "categorical":
        return list(objective["categories"])
    scale = SCALES[objective["scale"]]
    return list(range(int(scale.low), int(scale.high) + 1))


def _text(value: Any, where: str, errors: dict, *, required: bool = True) -> dict | None:
    if isinstance(value, str) and value.strip():
        return {"en": value.strip(), "zh": value.strip()}
    if isinstance(value, dict) and isinstance(value.get("en"), str) and value["en"].strip():
        unknown = set(value) - set(LANGUAGES)
        if unknown:
            errors[where] = [_("Unknown language %(langs)s; use “en” and “zh”.")
                             % {"langs": ", ".join(sorted(unknown))}]
            return None
        zh = value.get("zh")
        if zh is not None and not isinstance(zh, str):
            errors[f"{where}.zh"] = [_("Must be text.")]
            return None
        return {"en": value["en"].strip(), "zh": (zh or value["en"]).strip()}
    if value is None and not required:
        return None
    errors[where] = [_("Give a text, or {“en”: …, “zh”: …} with at least the English text.")]
    return None


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_objectives(objectives: Any) -> list[dict]:
    """Return ``objectives`` checked and normalised, or raise ValidationError.

    Each error is keyed by the path of the field at fault, e.g. ``objectives[2].scale``.
    """
    if not isinstance(objectives, list) or not objectives:
        raise ValidationError({"objectives": [_("Give a list of one or more objectives.")]})
    errors: dict[str, list[str]] = {}
    result, seen = [], set()
    for i, raw in enumerate(objectives):
        where = f"objectives[{i}]"
        if not isinstance(raw, dict):
            errors[where] = [_("Each objective is an object with key, label, scale and anchors.")]
            continue
        unknown = set(raw) - {"key", "label", "description", "scale", "categories", "anchors",
                              "weight", "gate"}
        if unknown:
            errors[where] = [_("Unknown fields: %(fields)s.") % {"fields": ", ".join(
                sorted(unknown))}]
        key = raw.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key) or key == OVERALL:
            errors[f"{where}.key"] = [_("Use 1–40 lower-case letters, digits or “_”, starting "
                                        "with a letter (not “overall”).")]
        elif key in seen:
            errors[f"{where}.key"] = [_("The key “%(key)s” is used twice.") % {"key": key}]
        seen.add(key)
        label = _text(raw.get("label"), f"{where}.label", errors)
        description = _text(raw.get("description", ""), f"{where}.description", errors,
                            required=False) if raw.get("description") else {"en": "", "zh": ""}
        scale = raw.get("scale")
        if scale not in SCALE_NAMES:
            errors[f"{where}.scale"] = [_("Choose one of: %(names)s.")
                                        % {"names": ", ".join(SCALE_NAMES)}]
            continue
        objective = {"key": key, "label": label, "description": description, "scale": scale}
        if scale == "categorical":
            categories = raw.get("categories")
            if (not isinstance(categories, list) or len(categories) < 2
                    or not all(isinstance(c, str) and c for c in categories)
                    or len(set(categories)) != len(categories)):
                errors[f"{where}.categories"] = [_("A categorical scale needs two or more "
                                                   "distinct category names.")]
                continue
            objective["categories"] = list(categories)
        elif "categories" in raw:
            errors[f"{where}.categories"] = [_("Only a categorical scale has categories.")]
        weight = raw.get("weight", 0 if scale == "categorical" else 1)
        if not _number(weight) or weight < 0:
            errors[f"{where}.weight"] = [_("Give a number of 0 or more.")]
        elif scale == "categorical" and weight:
            errors[f"{where}.weight"] = [_("A categorical objective has no score: its weight "
                                           "must be 0.")]
        objective["weight"] = weight
        gate = raw.get("gate")
        points = scale_points(objective)
        if gate is not None:
            if scale == "categorical":
                errors[f"{where}.gate"] = [_("A categorical objective cannot have a gate.")]
            elif not _number(gate) or not points[0] <= gate <= points[-1]:
                errors[f"{where}.gate"] = [_("Give a floor between %(low)s and %(high)s.")
                                           % {"low": points[0], "high": points[-1]}]
        objective["gate"] = gate
        anchors = raw.get("anchors")
        if not isinstance(anchors, dict):
            errors[f"{where}.anchors"] = [_("Describe every scale point: %(points)s.")
                                          % {"points": ", ".join(map(str, points))}]
            continue
        wanted = [str(p) for p in points]
        missing = [p for p in wanted if p not in anchors]
        extra = [p for p in anchors if p not in wanted]
        if missing or extra:
            errors[f"{where}.anchors"] = [_("Describe exactly the scale points %(points)s "
                                            "(missing: %(missing)s; not on the scale: "
                                            "%(extra)s).") % {
                "points": ", ".join(wanted), "missing": ", ".join(missing) or "—",
                "extra": ", ".join(extra) or "—"}]
            continue
        objective["anchors"] = {p: _text(anchors[p], f"{where}.anchors.{p}", errors)
                                for p in wanted}
        result.append(objective)
    if errors:
        raise ValidationError(errors)
    if not any(o["weight"] > 0 for o in result):
        raise ValidationError({"objectives": [_("At least one objective needs a weight above "
                                                "0 for the composite.")]})
    return result


def objectives_for_stats(objectives: list[dict]) -> list[Objective]:
    """The checked objectives as ``stats.Objective`` values."""
    return [Objective(o["key"], scale_of(o), weight=float(o["weight"]), gate=o.get("gate"))
            for o in objectives]


def preference_objectives(objectives: list[dict]) -> list[Objective]:
    """Objectives for pairwise preferences: one per numeric objective plus ``overall``."""
    keys = [o["key"] for o in objectives if o["scale"] != "categorical"] + [OVERALL]
    return [Objective(key, PREFERENCE_SCALE, weight=1.0) for key in keys]


def language() -> str:
    """The rubric language for the current request: "zh" for Chinese, else "en"."""
    return "zh" if (get_language() or "en").lower().startswith("zh") else "en"


def localised(objectives: list[dict], lang: str | None = None) -> list[dict]:
    """The objectives with texts in one language, as the rating page and API show them."""
    lang = lang or language()
    result = []
    for o in objectives:
        points = scale_points(o)
        result.append({
            "key": o["key"], "label": o["label"][lang], "description": o["description"][lang],
            "scale": o["scale"], "weight": o["weight"], "gate": o.get("gate"),
            "points": [{"value": p, "anchor": o["anchors"][str(p)][lang]} for p in points],
        })
    return result


def default_objectives(vertical: str) -> list[dict]:
    """The vertical's default objectives, from ``domains.<vertical>.rubric.OBJECTIVES``."""
    module = importlib.import_module(f"domains.{vertical}.rubric")
    return check_objectives(module.OBJECTIVES)
