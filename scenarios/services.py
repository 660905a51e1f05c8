"""Importing scenario packs into a sandbox: all or nothing."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from sandbox.audit.services import audit_record
from scenarios.errors import ErrorItem, ScenarioError
from scenarios.loader import Pack, load_pack
from scenarios.models import Scenario, ScenarioKind, ScenarioPack


def _kind_of(spec: dict) -> str:
    return ScenarioKind.BANK if spec.get("kind") == "bank" else ScenarioKind.SCENARIO


@transaction.atomic
def pack_import(*, sandbox, text: str, filename: str, actor) -> tuple[ScenarioPack, dict]:
    """Validate and import one YAML pack into ``sandbox``; return the pack and counts.

    Raises :class:`ScenarioError` (every mistake with file, line and field) when
    the pack is invalid or its vertical is not the sandbox's; nothing is
    written then. Re-importing a pack replaces its scenarios' specs (runs keep
    their own snapshot of what they played) and removes scenarios the new
    version no longer has; one that runs refer to is kept for them but retired
    (``Scenario.retired``: new runs do not play it) until a version brings it back.
    """
    pack: Pack = load_pack(text, filename)
    if pack.vertical != sandbox.vertical:
        raise ScenarioError([ErrorItem(filename, 1, "pack.vertical",
                                       f"this pack is for {pack.vertical}; the sandbox is "
                                       f"{sandbox.vertical}")])
    taken = dict(Scenario.objects.filter(sandbox=sandbox, scenario_id__in=[
        s["id"] for s in pack.scenarios]).exclude(pack__pack_id=pack.id).values_list(
        "scenario_id", "pack__pack_id"))
    if taken:
        # Every clash, each at its scenario's own line, as the pack's own duplicate ids are.
        raise ScenarioError([
            ErrorItem(filename, spec["source"]["line"], f"scenarios[{index}].id",
                      f"scenario id {spec['id']!r} already exists in pack "
                      f"{taken[spec['id']]!r} of this sandbox")
            for index, spec in enumerate(pack.scenarios) if spec["id"] in taken])
    record, created = ScenarioPack.objects.update_or_create(
        sandbox=sandbox, pack_id=pack.id,
        defaults={"title": pack.title, "version": pack.version, "source_name": filename,
                  "source": text,
                  "imported_by": actor if getattr(actor, "is_authenticated", False) else None})
    counts = {"created": 0, "updated": 0, "removed": 0, "kept": 0}
    for spec in pack.scenarios:
        _, was_created = Scenario.objects.update_or_create(
            sandbox=sandbox, scenario_id=spec["id"],
            defaults={"pack": record, "title": spec["title"], "vertical": spec["vertical"],
                      "language": spec["language"], "kind": _kind_of(spec),
                      "bank": spec.get("bank") or "",
                      "risk_categories": spec.get("risk_categories", []), "spec": spec,
                      "retired": False})
        counts["created" if was_created else "updated"] += 1
    stale = record.scenarios.exclude(scenario_id__in=[s["id"] for s in pack.scenarios])
    for scenario in stale:
        if scenario.sessions.exists():
            counts["kept"] += 1
            if not scenario.retired:
                scenario.retired = True
                scenario.save(update_fields=["retired", "updated_at"])
        else:
            scenario.delete()
            counts["removed"] += 1
    audit_record(sandbox=sandbox, actor=actor, action="scenarios.import", target=record,
                 payload={"pack": pack.id, "version": pack.version, "file": filename,
                          **counts})
    return record, counts


def validation_error_from(exc: ScenarioError) -> ValidationError:
    """The pack's errors as a Django ValidationError (for forms)."""
    return ValidationError([str(e) for e in exc.errors])
