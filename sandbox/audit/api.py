"""Audit trail API: read a sandbox's chain, verify it, export it as JSONL."""

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from sandbox.audit.export import export_filename, jsonl_lines
from sandbox.audit.models import AuditEvent
from sandbox.audit.services import verify_chain
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["seq", "actor_name", "action", "target_type", "target_id", "payload",
                  "created_at", "prev_hash", "hash"]


class VerificationSerializer(serializers.Serializer):
    events = serializers.IntegerField()
    intact = serializers.BooleanField()
    first_break = serializers.CharField(allow_null=True)


class AuditEventList(SandboxScopedMixin, generics.ListAPIView):
    """The sandbox's audit events in chain order (operators and regulators)."""

    read_capability = Cap.AUDIT
    serializer_class = AuditEventSerializer
    filterset_fields = ["action"]
    ordering_fields = ["seq"]

    def get_queryset(self):
        return AuditEvent.objects.chain(self.sandbox.pk)


class AuditVerify(SandboxScopedMixin, APIView):
    """Recompute the sandbox's chain and report the first broken link, if any."""

    read_capability = Cap.AUDIT

    @extend_schema(responses=VerificationSerializer)
    def get(self, request, sandbox_pk):
        checked, broken = verify_chain(self.sandbox.pk)
        return Response({"events": checked, "intact": broken is None,
                         "first_break": str(broken) if broken else None})


class AuditExport(SandboxScopedMixin, APIView):
    """The whole chain as JSON Lines, one event (with its hash) per line."""

    read_capability = Cap.AUDIT

    @extend_schema(responses={(200, "application/jsonl"): OpenApiResponse(
        description="One JSON object per line.")})
    def get(self, request, sandbox_pk):
        response = StreamingHttpResponse(jsonl_lines(self.sandbox.pk),
                                         content_type="application/jsonl; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export_filename(self.sandbox)}"'
        return response
