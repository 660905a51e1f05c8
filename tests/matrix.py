"""A permission-matrix helper: every endpoint × every role, in the own and another sandbox.

The people: ``operator``, ``expert`` and ``regulator`` of sandbox A; ``outsider``
(no role anywhere); ``other`` (operator of sandbox B only); ``anonymous``.
Expected codes are written out per endpoint so that a reader sees the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("operator", "expert", "regulator", "outsider", "other", "anonymous")

# Shorthands for the common rows of the matrix.
CONFIGURE = {"operator": 200, "expert": 403, "regulator": 403, "outsider": 404, "other": 404,
             "anonymous": 401}
VIEW = {"operator": 200, "expert": 200, "regulator": 200, "outsider": 404, "other": 404,
        "anonymous": 401}
MONITOR = {"operator": 200, "expert": 403, "regulator": 200, "outsider": 404, "other": 404,
           "anonymous": 401}
OVERSEE = {"operator": 403, "expert": 403, "regulator": 200, "outsider": 404, "other": 404,
           "anonymous": 401}
RATE = {"operator": 403, "expert": 200, "regulator": 403, "outsider": 404, "other": 404,
        "anonymous": 401}


def with_success(row: dict, code: int) -> dict:
    """The same row with the allowed roles' 200 replaced by ``code`` (201, 204...)."""
    return {role: (code if status == 200 else status) for role, status in row.items()}


@dataclass
class Endpoint:
    method: str
    path: str  # formatted with the ``ids`` of the scenario built by the test
    expect: dict
    body: dict | None = None
    fmt: str = "json"
    label: str = ""
    extra: dict = field(default_factory=dict)

    def __str__(self):
        return self.label or f"{self.method} {self.path}"


def call(client, endpoint: Endpoint, ids: dict):
    path = endpoint.path.format(**ids)
    method = getattr(client, endpoint.method.lower())
    if endpoint.method in ("GET", "DELETE", "HEAD"):
        return method(path)
    return method(path, endpoint.body or {}, format=endpoint.fmt)
