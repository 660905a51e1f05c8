from rest_framework import serializers

from sandbox.runs.models import Alert, CheckResult, Run, Session, Turn


class RunCreateSerializer(serializers.Serializer):
    models = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    scenarios = serializers.ListField(child=serializers.IntegerField(), required=False,
                                      allow_empty=False,
                                      help_text="Scenario ids; all the sandbox's when omitted.")
    variants = serializers.BooleanField(default=False)
    variant_kinds = serializers.ListField(child=serializers.CharField(), required=False,
                                          help_text="Probe kinds; each scenario's own "
                                                    "`probes` when omitted.")


class RunSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField()
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    halted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    sessions = serializers.IntegerField(source="sessions.count", read_only=True)
    alerts = serializers.IntegerField(source="alerts.count", read_only=True)

    class Meta:
        model = Run
        fields = ["id", "status", "progress", "with_variants", "options", "started_by",
                  "created_at", "started_at", "finished_at", "tokens_used", "sessions", "alerts",
                  "halted_by", "halt_reason", "error"]

    def get_progress(self, run) -> dict:
        return {"done": run.turns_done, "total": run.turns_total}


class CheckResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = CheckResult
        fields = ["check_name", "passed", "score", "severity", "alert", "evidence"]


class AlertSerializer(serializers.ModelSerializer):
    check = serializers.CharField(source="check_result.check_name")

    class Meta:
        model = Alert
        fields = ["id", "severity", "check", "message", "created_at"]


class TurnSerializer(serializers.ModelSerializer):
    checks = CheckResultSerializer(many=True, read_only=True)
    alerts = AlertSerializer(many=True, read_only=True)

    class Meta:
        model = Turn
        fields = ["id", "index", "turn_key", "user_message", "assistant_message", "expect",
                  "status", "error", "started_at", "completed_at", "first_token_ms",
                  "latency_ms", "prompt_tokens", "completion_tokens", "retrieved_chunks",
                  "attempts", "checks", "alerts"]


class TranscriptSerializer(serializers.ModelSerializer):
    scenario = serializers.CharField(source="scenario.scenario_id")
    model = serializers.SerializerMethodField()
    origin = serializers.SerializerMethodField()
    turns = TurnSerializer(many=True, read_only=True)

    class Meta:
        model = Session
        fields = ["id", "scenario", "variant_id", "variant_kind", "origin", "model", "status",
                  "error", "tokens_used", "started_at", "finished_at", "turns"]

    def get_model(self, session) -> dict:
        return {"id": session.model_id, "label": session.model.label}

    def get_origin(self, session) -> str:
        return (session.spec.get("variant") or {}).get("origin", session.variant_id)
