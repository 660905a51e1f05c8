"""Request and response shapes of the live-monitoring API."""

from rest_framework import serializers

from sandbox.live.models import Annotation
from sandbox.runs.models import Run, Severity


class TicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Append as ?ticket= to the websocket URL; "
                                             "valid once, for 30 seconds.")
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=False, trim_whitespace=True)


class OptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class HaltedRunSerializer(serializers.ModelSerializer):
    halted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Run
        fields = ["id", "status", "halt_reason", "halted_by", "finished_at"]


class SuspensionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    suspension_reason = serializers.CharField()
    halted_runs = serializers.ListField(child=serializers.IntegerField())


class AnnotationSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    session = serializers.IntegerField(source="turn.session_id", read_only=True)
    turn_index = serializers.IntegerField(source="turn.index", read_only=True)

    class Meta:
        model = Annotation
        fields = ["id", "run", "turn", "session", "turn_index", "note", "severity", "author",
                  "created_at"]
        read_only_fields = ["id", "run", "session", "turn_index", "author", "created_at"]


class AnnotationCreateSerializer(serializers.Serializer):
    turn = serializers.IntegerField(help_text="The turn's id (``turn_id`` in live events).")
    note = serializers.CharField(max_length=5000, trim_whitespace=True)
    severity = serializers.ChoiceField(choices=Severity.choices, default=Severity.INFO)
