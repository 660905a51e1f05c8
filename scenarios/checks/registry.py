"""The registry of check types: built-in checks and those domain packages add.

A check function has the signature
``fn(spec: dict, *, answer: str, turn: dict, scenario: dict, ctx: CheckContext) -> Outcome``
and may be ``async``. It is registered with a JSON Schema of its parameters so
the loader can reject a bad spec with a line number before anything runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from scenarios.schema import SEVERITIES, VERTICALS

Validate = Callable[[dict], list[tuple[str, str]]]


@dataclass(frozen=True)
class CheckType:
    name: str
    func: Callable
    params: dict
    required: tuple[str, ...]
    default_severity: str | None
    validate: Validate | None
    needs_reference: bool
    description: str

    def spec_schema(self) -> dict:
        """JSON Schema of a spec of this type: its params plus type, severity and label."""
        return {
            "type": "object",
            "required": ["type", *self.required],
            "additionalProperties": False,
            "properties": {
                "type": {"const": self.name},
                "severity": {"enum": list(SEVERITIES)},
                "label": {"type": "string"},
                **self.params,
            },
        }


_REGISTRY: dict[str, CheckType] = {}
_DOMAIN_DEFAULTS: dict[str, list[dict]] = {}


def register_check(
    name: str,
    *,
    params: dict | None = None,
    required: tuple[str, ...] = (),
    default_severity: str | None = None,
    validate: Validate | None = None,
    needs_reference: bool = False,
):
    """Register the decorated function as check type ``name``.

    ``params`` maps parameter names to JSON Schemas; ``validate(spec)`` may add
    semantic errors as ``(param, message)`` pairs (e.g. a regex that does not
    compile); ``needs_reference`` makes the loader require a ``reference`` on
    the turn or in the spec. Registering another function under a taken name
    raises ValueError; re-registering the same function (a module reload) is
    allowed.
    """
    if default_severity is not None and default_severity not in SEVERITIES:
        raise ValueError(f"unknown severity {default_severity!r}")

    def decorator(func: Callable) -> Callable:
        existing = _REGISTRY.get(name)
        if existing is not None and (
            existing.func.__module__,
            existing.func.__qualname__,
        ) != (func.__module__, func.__qualname__):
            raise ValueError(f"check type {name!r} is already registered by "
                             f"{existing.func.__module__}")
        _REGISTRY[name] = CheckType(
            name=name,
            func=func,
            params=params or {},
            required=tuple(required),
            default_severity=default_severity,
            validate=validate,
            needs_reference=needs_reference,
            description=(func.__doc__ or "").strip().split("\n\n")[0],
        )
        return func

    return decorator


def get_check(name: str) -> CheckType | None:
    return _REGISTRY.get(name)


def check_names() -> list[str]:
    return sorted(_REGISTRY)


def load_domain_checks() -> dict[str, list[dict]]:
    """Import ``domains.<vertical>.checks`` for every vertical, registering their checks.

    Returns each vertical's ``DEFAULT_CHECKS`` (the specs run on every turn of
    that vertical). Idempotent; an import error is raised, not hidden.
    """
    if not _DOMAIN_DEFAULTS:
        for vertical in VERTICALS:
            module = importlib.import_module(f"domains.{vertical}.checks")
            _DOMAIN_DEFAULTS[vertical] = [dict(s) for s in getattr(module, "DEFAULT_CHECKS", [])]
    return {v: [dict(s) for s in specs] for v, specs in _DOMAIN_DEFAULTS.items()}


def default_checks(vertical: str) -> list[dict]:
    """The default check specs of a vertical (domain checks are loaded on first use)."""
    return load_domain_checks().get(vertical, [])
