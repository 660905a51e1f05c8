"""Submitting and revising ratings; an item's status follows its ratings and their agreement."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sandbox.audit.services import audit_record
from sandbox.core.models import Sandbox
from sandbox.ratings.models import (
    Assignment,
    AssignmentStatus,
    ItemStatus,
    Rating,
    RatingConfig,
    RatingItem,
    Rubric,
)
from sandbox.ratings.rubric_format import objectives_for_stats, preference_objectives
from sandbox.ratings.services.queue import item_has_room
from sandbox.ratings.services.rubrics import rubric_ensure
from sandbox.ratings.services.values import (
    check_flags,
    check_rationale,
    check_values,
    parse_uuid,
)
from sandbox.ratings.stats import disagreement


def _closed_if_released(sandbox: Sandbox) -> None:
    if Sandbox.objects.filter(pk=sandbox.pk, results_released=True).exists():
        raise ValidationError({"item": [_("Rating is closed: this sandbox's results have been "
                                          "released.")]})


def _check_rubric_version(rubric: Rubric, rubric_version) -> None:
    if rubric_version not in (None, "") and str(rubric_version) != str(rubric.version):
        raise ValidationError({"rubric_version": [
            _("The rubric changed to version %(version)s while you were rating; reload the "
              "item and check your values.") % {"version": rubric.version}]})


def item_agreement(item: RatingItem, rubric: Rubric) -> dict[str, float]:
    """Agreement (1 − normalised spread, in [0, 1]) of the item's current ratings per key.

    Keys with fewer than two values are left out; values given under an older rubric
    that no longer fit are ignored.
    """
    objectives = (preference_objectives(rubric.objectives) if item.is_pair
                  else objectives_for_stats(rubric.objectives))
    values_by_key: dict[str, list] = {o.key: [] for o in objectives}
    for values in item.ratings.current().values_list("values", flat=True):
        for key, value in values.items():
            if key in values_by_key:
                values_by_key[key].append(value)
    result = {}
    for objective in objectives:
        values = values_by_key[objective.key]
        if len(values) < 2:
            continue
        try:
            encoded = [objective.scale.encode(v) for v in values]
        except ValueError:
            continue
        result[objective.key] = 1.0 - disagreement(encoded, objective)
    return result


def item_refresh_status(item: RatingItem, rubric: Rubric, *, also_save=()) -> str:
    """Set ``item.status`` from its ratings (the row must be locked); return the status.

    Open while it has fewer than ``needed`` current ratings; then "adjudication" when the
    agreement on any objective is below the sandbox's agreement floor, else "complete".
    An item an operator adjudicated stays adjudicated. Gold items stay open.
    """
    if item.is_gold:
        status = ItemStatus.OPEN
    elif item.status == ItemStatus.ADJUDICATED:
        status = ItemStatus.ADJUDICATED
    elif item.ratings_count < item.needed:
        status = ItemStatus.OPEN
    else:
        floor = RatingConfig.of(item.sandbox_id).agreement_floor  # no query for the sandbox
        low = [k for k, a in item_agreement(item, rubric).items() if a < floor - 1e-9]
        status = ItemStatus.ADJUDICATION if low else ItemStatus.COMPLETE
    changed = list(also_save)
    if status != item.status:
        item.status = status
        changed.append("status")
    if changed:  # one UPDATE for the status and whatever the caller changed
        item.save(update_fields=changed)
    return status


@transaction.atomic
def rating_submit(*, sandbox: Sandbox, rater, item_id, values, rationale="", flags=None,
                  rubric_version=None) -> Rating:
    """Record ``rater``'s rating of a leased item and return it.

    Refused with a ValidationError (a 400) when the item is not leased to the rater
    (whatever the reason: unknown id, another sandbox's item, never leased), was
    already rated or skipped by them, when the lease expired and the place went to
    someone else, when a value is off its scale, or when rating is closed. The rating
    commits before the call returns: a crash afterwards loses nothing.
    """
    # The rater's assignment and its item, both locked, in one query; none while the
    # sandbox's results are released (re-read here, under the transaction).
    assignment = (Assignment.objects.select_for_update(of=("self", "item"))
                  .select_related("item")
                  .filter(item__sandbox=sandbox, item_id=parse_uuid(item_id), expert=rater,
                          item__sandbox__results_released=False).first())
    if assignment is None:
        _closed_if_released(sandbox)
        raise ValidationError({"item": [_("This item is not leased to you.")]})
    item = assignment.item
    if assignment.status == AssignmentStatus.SUBMITTED:
        raise ValidationError({"item": [_("You have already rated this item. To change your "
                                          "rating, edit it: that keeps the earlier version.")]})
    if assignment.status == AssignmentStatus.SKIPPED:
        raise ValidationError({"item": [_("You skipped this item.")]})
    now = timezone.now()
    if not assignment.is_active_lease(now) and (item.excluded or not item_has_room(
            item, now=now, other_than=assignment)):
        raise ValidationError({"item": [
            _("Your lease on this item expired at %(time)s and its place went to another "
              "expert; take the next item.")
            % {"time": formats.time_format(timezone.localtime(assignment.expires_at), "H:i")}]})
    rubric = Rubric.objects.current_for(sandbox) or rubric_ensure(sandbox=sandbox, actor=rater)
    _check_rubric_version(rubric, rubric_version)
    rating = Rating.objects.create(
        item=item, sandbox=sandbox, rater=rater, rubric=rubric,
        values=check_values(item=item, rubric=rubric, values=values),
        rationale=check_rationale(rationale), flags=check_flags(flags), created_at=now)
    assignment.status = AssignmentStatus.SUBMITTED
    assignment.finished_at = now
    assignment.save(update_fields=["status", "finished_at"])
    # The item's row is locked (above), so its count cannot move under us.
    item.ratings_count += 1
    item_refresh_status(item, rubric, also_save=["ratings_count"])
    audit_record(sandbox=sandbox, actor=rater, action="rating.submit", target=item,
                 payload={"rating": str(rating.pk), "version": 1,
                          "rubric_version": rubric.version})
    return rating


@transaction.atomic
def rating_revise(*, sandbox: Sandbox, rater, rating_id, values, rationale="", flags=None,
                  rubric_version=None) -> Rating:
    """Record a new version of the rater's current rating of an item and return it.

    The earlier version stays unchanged (only marked as no longer current). Refused
    (400) for someone else's rating, an earlier version, or once results are released.
    """
    _closed_if_released(sandbox)
    previous = (Rating.objects.select_for_update()
                .filter(sandbox=sandbox, rater=rater, pk=parse_uuid(rating_id)).first())
    if previous is None:
        raise ValidationError({"rating": [_("You have no rating with this id.")]})
    if not previous.is_current:
        raise ValidationError({"rating": [_("This is an earlier version; edit the current "
                                            "version of your rating.")]})
    item = RatingItem.objects.select_for_update().get(pk=previous.item_id)
    rubric = Rubric.objects.current_for(sandbox) or rubric_ensure(sandbox=sandbox, actor=rater)
    _check_rubric_version(rubric, rubric_version)
    checked = check_values(item=item, rubric=rubric, values=values)
    Rating.objects.filter(pk=previous.pk, is_current=True).update(is_current=False)
    rating = Rating.objects.create(
        item=item, sandbox=sandbox, rater=rater, rubric=rubric, version=previous.version + 1,
        supersedes=previous, values=checked, rationale=check_rationale(rationale),
        flags=check_flags(flags))
    item_refresh_status(item, rubric)
    audit_record(sandbox=sandbox, actor=rater, action="rating.revise", target=item,
                 payload={"rating": str(rating.pk), "supersedes": str(previous.pk),
                          "version": rating.version, "rubric_version": rubric.version})
    return rating

