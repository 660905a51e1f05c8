"""Input serializers of the ratings API, and the plain representations of its rows."""

from __future__ import annotations

from rest_framework import serializers

from sandbox.ratings.models import Adjudication, Rating, RatingConfig, RatingItem, Rubric


class RubricCreateSerializer(serializers.Serializer):
    objectives = serializers.JSONField(help_text="A list of objectives (see docs/ratings.md).")
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RatingSettingsSerializer(serializers.Serializer):
    raters_per_item = serializers.IntegerField(required=False)
    gold_rate = serializers.FloatField(required=False)
    lease_minutes = serializers.IntegerField(required=False)
    agreement_floor = serializers.FloatField(required=False)


class GenerateSerializer(serializers.Serializer):
    run = serializers.IntegerField(help_text="A run of this sandbox.")


class ValuesSerializer(serializers.Serializer):
    values = serializers.JSONField()


class AdjudicateSerializer(serializers.Serializer):
    decision = serializers.CharField()
    values = serializers.JSONField(required=False, default=None)
    extra_raters = serializers.IntegerField(required=False, default=0)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class SkipSerializer(serializers.Serializer):
    item = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class RatingSubmitSerializer(serializers.Serializer):
    item = serializers.CharField(help_text="The id of the item leased to you.")
    values = serializers.JSONField()
    rationale = serializers.CharField(required=False, allow_blank=True, default="")
    flags = serializers.JSONField(required=False, default=list)
    rubric_version = serializers.IntegerField(required=False, allow_null=True, default=None)


class RatingReviseSerializer(serializers.Serializer):
    values = serializers.JSONField()
    rationale = serializers.CharField(required=False, allow_blank=True, default="")
    flags = serializers.JSONField(required=False, default=list)
    rubric_version = serializers.IntegerField(required=False, allow_null=True, default=None)


def rubric_data(rubric: Rubric) -> dict:
    return {"version": rubric.version, "objectives": rubric.objectives, "note": rubric.note,
            "created_by": rubric.created_by.get_username() if rubric.created_by else None,
            "created_at": rubric.created_at.isoformat()}


def settings_data(sandbox, config: RatingConfig) -> dict:
    return {"raters_per_item": sandbox.raters_per_item, "gold_rate": config.gold_rate,
            "lease_minutes": config.lease_minutes, "agreement_floor": config.agreement_floor}


def own_rating_data(rating: Rating) -> dict:
    """A rating as its own rater sees it."""
    return {"id": str(rating.pk), "item": str(rating.item_id), "version": rating.version,
            "is_current": rating.is_current,
            "supersedes": str(rating.supersedes_id) if rating.supersedes_id else None,
            "rubric_version": rating.rubric.version, "values": rating.values,
            "rationale": rating.rationale, "flags": rating.flags,
            "created_at": rating.created_at.isoformat()}


def item_data(item: RatingItem) -> dict:
    """An item as operators and regulators see it (model identity included)."""
    return {"id": str(item.pk), "kind": item.kind, "status": item.status,
            "run": item.run_id, "variant_id": item.variant_id, "turn_index": item.turn_index,
            "model_a": {"id": item.model_a_id, "label": str(item.model_a)},
            "model_b": ({"id": item.model_b_id, "label": str(item.model_b)}
                        if item.model_b_id else None),
            "needed": item.needed, "ratings_count": item.ratings_count,
            "is_gold": item.is_gold, "excluded": item.excluded,
            "created_at": item.created_at.isoformat()}


def adjudication_data(adjudication: Adjudication) -> dict:
    return {"decision": adjudication.decision, "values": adjudication.values,
            "extra_raters": adjudication.extra_raters, "note": adjudication.note,
            "decided_by": (adjudication.decided_by.get_username()
                           if adjudication.decided_by else None),
            "created_at": adjudication.created_at.isoformat()}
