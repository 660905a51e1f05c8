"""Access to the per-vertical data modules ``domains/<vertical>/keywords.py``.

Each such module may define ``KEYWORDS`` (``{risk code: {"en": [...], "zh": [...]}}``)
and ``ESCALATION`` (``{"emergency": [regex...], "professional": [regex...]}``).
"""

from __future__ import annotations

import importlib
from functools import cache
from types import ModuleType

from scenarios.schema import VERTICALS


@cache
def vertical_module(vertical: str | None) -> ModuleType | None:
    """The keywords module of a known vertical, or None for no/unknown vertical."""
    if vertical not in VERTICALS:
        return None
    return importlib.import_module(f"domains.{vertical}.keywords")


def vertical_keywords(vertical: str | None) -> dict[str, dict[str, list[str]]]:
    module = vertical_module(vertical)
    return getattr(module, "KEYWORDS", {}) if module else {}


def vertical_escalation(vertical: str | None) -> dict[str, list[str]]:
    module = vertical_module(vertical)
    return getattr(module, "ESCALATION", {}) if module else {}
