"""Writes that change a sandbox or its members; each leaves an audit event."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Membership, Sandbox, SandboxStatus
from sandbox.core.roles import Role

SANDBOX_FIELDS = (
    "name", "vertical", "description", "plan_objectives", "plan_timeframe_start",
    "plan_timeframe_end", "plan_methodology", "plan_conditions", "status",
    "max_concurrent_runs", "token_budget", "raters_per_item",
)

# Statuses an operator may set; suspension belongs to regulators (EU AI Act Art. 57(11)).
OPERATOR_STATUSES = {SandboxStatus.DRAFT, SandboxStatus.ACTIVE, SandboxStatus.CLOSED}


def _changes(before: dict, after: dict) -> dict:
    return {k: [before[k], after[k]] for k in after if before.get(k) != after[k]}


@transaction.atomic
def sandbox_create(*, created_by, **fields) -> Sandbox:
    """Create a sandbox; its creator becomes its first operator."""
    status = fields.get("status", SandboxStatus.DRAFT)
    if status not in OPERATOR_STATUSES:
        raise ValidationError({"status": _("A new sandbox cannot start suspended.")})
    sandbox = Sandbox(created_by=created_by, **fields)
    sandbox.full_clean()
    sandbox.save()
    Membership.objects.create(sandbox=sandbox, user=created_by, role=Role.OPERATOR)
    audit_record(sandbox=sandbox, actor=created_by, action="sandbox.create", target=sandbox,
                 payload={k: getattr(sandbox, k) for k in SANDBOX_FIELDS})
    return sandbox


@transaction.atomic
def sandbox_update(*, sandbox: Sandbox, actor, **fields) -> Sandbox:
    """Change a sandbox's settings; operators cannot suspend or lift a suspension."""
    sandbox = Sandbox.objects.select_for_update().get(pk=sandbox.pk)
    new_status = fields.get("status", sandbox.status)
    if new_status != sandbox.status:
        if sandbox.status == SandboxStatus.SUSPENDED:
            raise PermissionDenied(_("This sandbox is suspended by a regulator; only a "
                                     "regulator can lift the suspension."))
        if new_status not in OPERATOR_STATUSES:
            raise ValidationError({"status": _("Only a regulator can suspend a sandbox.")})
    before = {k: getattr(sandbox, k) for k in SANDBOX_FIELDS}
    for key, value in fields.items():
        if key not in SANDBOX_FIELDS:
            raise ValidationError({key: _("This field cannot be changed.")})
        setattr(sandbox, key, value)
    sandbox.full_clean()
    sandbox.save()
    after = {k: getattr(sandbox, k) for k in SANDBOX_FIELDS}
    audit_record(sandbox=sandbox, actor=actor, action="sandbox.update", target=sandbox,
                 payload={"changes": _changes(before, after)})
    return sandbox


def _user_by_username(username: str):
    User = get_user_model()
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise ValidationError({"username": _("No active user is called “%(name)s”.")
                               % {"name": username}}) from None


@transaction.atomic
def membership_add(*, sandbox: Sandbox, actor, username: str, role: str) -> Membership:
    """Give a user a role in the sandbox (one role per user and sandbox)."""
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %(roles)s.")
                               % {"roles": ", ".join(Role.values)}})
    user = _user_by_username(username)
    if Membership.objects.filter(sandbox=sandbox, user=user).exists():
        raise ValidationError({"username": _("“%(name)s” already holds a role in this sandbox.")
                               % {"name": username}})
    membership = Membership.objects.create(sandbox=sandbox, user=user, role=role)
    audit_record(sandbox=sandbox, actor=actor, action="member.add", target=membership,
                 payload={"username": username, "role": role})
    return membership


def _ensure_an_operator_remains(membership: Membership) -> None:
    others = Membership.objects.filter(sandbox=membership.sandbox_id, role=Role.OPERATOR).exclude(
        pk=membership.pk)
    if membership.role == Role.OPERATOR and not others.exists():
        raise ValidationError({"role": _("A sandbox needs at least one operator.")})


@transaction.atomic
def membership_update(*, membership: Membership, actor, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of: %(roles)s.")
                               % {"roles": ", ".join(Role.values)}})
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if role != membership.role:
        _ensure_an_operator_remains(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(sandbox=membership.sandbox_id, actor=actor, action="member.update",
                 target=membership, payload={"username": membership.user.get_username(),
                                             "role": [before, role]})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor) -> None:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _ensure_an_operator_remains(membership)
    audit_record(sandbox=membership.sandbox_id, actor=actor, action="member.remove",
                 target=membership, payload={"username": membership.user.get_username(),
                                             "role": membership.role})
    membership.delete()
