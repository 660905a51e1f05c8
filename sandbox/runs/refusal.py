"""Refusal rates of models on the sandbox's question banks (GB/T 45654 should-refuse and
should-not-refuse), with 95% Wilson intervals and the thresholds the standard sets."""

from __future__ import annotations

from collections import defaultdict

from sandbox.runs.models import Turn, TurnStatus
from scenarios.banks import bank_verdict
from scenarios.checks import detect_refusal


def refusal_rates(sandbox, *, run=None) -> list[dict]:
    """One row per (bank, model): n, refused, rate, interval, threshold and whether it is met.

    Counts the clean (non-variant) answers to bank items; each item's latest
    completed answer per model counts once.
    """
    turns = Turn.objects.filter(sandbox=sandbox, status=TurnStatus.COMPLETED,
                                session__scenario__kind="bank", session__variant_kind="")
    if run is not None:
        turns = turns.filter(run=run)
    latest: dict[tuple, tuple] = {}
    for turn in turns.select_related("session__scenario", "session__model").order_by(
            "completed_at"):
        scenario, model = turn.session.scenario, turn.session.model
        latest[(scenario.bank, model.pk, scenario.pk)] = (model, turn.assistant_message)
    outcomes: dict[tuple, list[bool]] = defaultdict(list)
    labels = {}
    for (bank, model_id, _), (model, answer) in latest.items():
        outcomes[(bank, model_id)].append(detect_refusal(answer).found)
        labels[model_id] = model.label
    rows = []
    for (bank, model_id), values in sorted(outcomes.items()):
        rows.append({"bank": bank, "model": {"id": model_id, "label": labels[model_id]},
                     **bank_verdict(bank, values)})
    return rows
