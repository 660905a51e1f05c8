from rest_framework import serializers

from sandbox.core.models import Membership, Sandbox
from sandbox.core.roles import Role


class SandboxSerializer(serializers.ModelSerializer):
    my_role = serializers.CharField(read_only=True)

    class Meta:
        model = Sandbox
        fields = [
            "id", "name", "vertical", "description", "status", "my_role",
            "plan_objectives", "plan_timeframe_start", "plan_timeframe_end",
            "plan_methodology", "plan_conditions", "suspension_reason",
            "max_concurrent_runs", "token_budget", "tokens_used", "raters_per_item",
            "results_released", "created_at", "updated_at",
        ]
        read_only_fields = ["id", "my_role", "suspension_reason", "tokens_used",
                            "results_released", "created_at", "updated_at"]

    def validate(self, attrs):
        start = attrs.get("plan_timeframe_start", getattr(self.instance, "plan_timeframe_start",
                                                            None))
        end = attrs.get("plan_timeframe_end", getattr(self.instance, "plan_timeframe_end", None))
        if start and end and end < start:
            raise serializers.ValidationError(
                {"plan_timeframe_end": "The timeframe must end on or after its start."})
        return attrs


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username")
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["id", "username", "role", "created_at"]
        read_only_fields = ["id", "created_at"]


class MembershipUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
