"""Serializers of the registry, knowledge-base and search API."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from domains.knowledge import MAX_K, read_upload
from domains.models import DomainModel, KnowledgeDocument
from domains.script import script_errors


class DomainModelSerializer(serializers.ModelSerializer):
    """A registered model. ``api_key_env`` names a variable; ``api_key_present`` says whether
    it is set on this server. The key itself never appears."""

    api_key_present = serializers.BooleanField(read_only=True)

    class Meta:
        model = DomainModel
        fields = [
            "id", "name", "version", "vendor", "description", "provider", "base_url",
            "model_name", "temperature", "max_tokens", "timeout_seconds", "api_key_env",
            "api_key_present", "rag_enabled", "rag_top_k", "script", "role", "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "api_key_present", "created_at"]
        # Uniqueness and provider rules are checked by the model's clean() in the service.
        validators = []

    def validate_script(self, value):
        if value in (None, ""):
            return {}
        problems = script_errors(value) if value else []
        if problems:
            raise serializers.ValidationError(problems)
        return value


class ConnectionResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.FloatField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    sample = serializers.CharField(allow_blank=True)


class DocumentSerializer(serializers.ModelSerializer):
    chunk_count = serializers.IntegerField(read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True,
                                        default=None)

    class Meta:
        model = KnowledgeDocument
        fields = ["id", "title", "content_type", "language", "embedder", "chunk_count",
                  "uploaded_by", "created_at"]
        read_only_fields = fields


class ChunkSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    index = serializers.IntegerField()
    text = serializers.CharField()


class DocumentDetailSerializer(DocumentSerializer):
    chunks = ChunkSerializer(many=True, read_only=True)

    class Meta(DocumentSerializer.Meta):
        fields = [*DocumentSerializer.Meta.fields, "content", "chunks"]
        read_only_fields = fields


class DocumentCreateSerializer(serializers.Serializer):
    """JSON ``{title, content}``, or a multipart ``file`` (.txt or .md, UTF-8) with an
    optional ``title`` (the file's name by default)."""

    title = serializers.CharField(required=False, allow_blank=True, max_length=300)
    content = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    file = serializers.FileField(required=False)

    def validate_file(self, upload):
        try:
            return read_upload(upload)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["file"]) from None

    def validate(self, attrs):
        upload = attrs.get("file")
        if upload and attrs.get("content"):
            raise serializers.ValidationError(
                {"content": _("Send either content or a file, not both.")})
        if upload:
            return {**upload, "title": attrs.get("title") or upload["title"]}
        if not attrs.get("content", "").strip():
            raise serializers.ValidationError(
                {"content": _("Send the document's text as content, or upload a file.")})
        if not attrs.get("title", "").strip():
            raise serializers.ValidationError({"title": _("Give the document a title.")})
        return {"title": attrs["title"], "content": attrs["content"],
                "content_type": "text/markdown"}


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(max_length=2000)
    k = serializers.IntegerField(min_value=1, max_value=MAX_K, default=10)


class ChunkHitSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField()
    document_id = serializers.IntegerField()
    title = serializers.CharField()
    index = serializers.IntegerField()
    text = serializers.CharField()
    score = serializers.FloatField()


class AnswerHitSerializer(serializers.Serializer):
    turn_id = serializers.IntegerField()
    run_id = serializers.IntegerField()
    session_id = serializers.IntegerField()
    model_id = serializers.IntegerField()
    model = serializers.CharField()
    index = serializers.IntegerField()
    user_message = serializers.CharField()
    text = serializers.CharField()
    score = serializers.FloatField()


class SearchResultSerializer(serializers.Serializer):
    chunks = ChunkHitSerializer(many=True)
    answers = AnswerHitSerializer(many=True, required=False,
                                  help_text="Only for members who monitor (reveals models).")
