"""Operators' decisions on items whose experts disagreed, and releasing results."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox
from sandbox.ratings.models import Adjudication, Decision, ItemStatus, RatingItem
from sandbox.ratings.services.rubrics import rubric_ensure
from sandbox.ratings.services.values import check_values


@transaction.atomic
def item_adjudicate(*, item: RatingItem, actor, decision: str, values=None,
                    extra_raters: int = 0, note: str = "") -> Adjudication:
    """Decide on an item awaiting adjudication; the experts' ratings are never changed.

    ``accept`` keeps the ratings; ``resolve`` sets final ``values`` (same shape as a
    rating) that replace the raters' mean in results; ``requeue`` asks ``extra_raters``
    more experts (1 to 10) and reopens the item; ``exclude`` leaves it out of results
    and exports. Agreement and rater quality always use the experts' own ratings.
    """
    item = RatingItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.ADJUDICATION:
        raise ValidationError({"item": [_("This item is not awaiting adjudication.")]})
    if decision not in Decision.values:
        raise ValidationError({"decision": [_("Choose one of: %(choices)s.")
                                            % {"choices": ", ".join(Decision.values)}]})
    checked = {}
    if decision == Decision.RESOLVE:
        rubric = rubric_ensure(sandbox=item.sandbox, actor=actor)
        checked = check_values(item=item, rubric=rubric, values=values)
    if decision == Decision.REQUEUE:
        if isinstance(extra_raters, bool) or not isinstance(extra_raters, int) \
                or not 1 <= extra_raters <= 10:
            raise ValidationError({"extra_raters": [_("Give a whole number from 1 to 10.")]})
        item.needed += extra_raters
        item.status = ItemStatus.OPEN
    else:
        extra_raters = 0
        item.status = ItemStatus.ADJUDICATED
    item.excluded = decision == Decision.EXCLUDE
    item.save(update_fields=["needed", "status", "excluded"])
    adjudication = Adjudication.objects.create(
        item=item, sandbox=item.sandbox, decided_by=actor, decision=decision, values=checked,
        extra_raters=extra_raters, note=(note or "").strip()[:2000])
    audit_record(sandbox=item.sandbox, actor=actor, action="rating.adjudicate", target=item,
                 payload={"decision": decision, "values": checked,
                          "extra_raters": extra_raters, "note": adjudication.note})
    return adjudication


@transaction.atomic
def results_release(*, sandbox: Sandbox, actor) -> Sandbox:
    """Release the sandbox's results to its experts; rating closes. Cannot be undone.

    Refused when they are already released (a conditional update, so two operators
    pressing the button at once leave one audit event).
    """
    changed = Sandbox.objects.filter(pk=sandbox.pk, results_released=False).update(
        results_released=True, updated_at=timezone.now())
    if not changed:
        raise ValidationError({"results_released": [_("The results are already released.")]})
    sandbox.results_released = True
    audit_record(sandbox=sandbox, actor=actor, action="results.release", target=sandbox,
                 payload={})
    return sandbox
