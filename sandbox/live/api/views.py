"""Live-monitoring API: websocket tickets, halting runs, suspending sandboxes, annotations."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap
from sandbox.live import services
from sandbox.live.api.serializers import (
    AnnotationCreateSerializer,
    AnnotationSerializer,
    HaltedRunSerializer,
    OptionalReasonSerializer,
    ReasonSerializer,
    SuspensionSerializer,
    TicketSerializer,
)
from sandbox.live.models import Annotation
from sandbox.runs.control import RunAlreadyFinished, run_stop
from sandbox.runs.models import Run, RunStatus


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class WsTicketView(APIView):
    """A one-time ticket for a script's websocket: valid 30 seconds, for one connection."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: TicketSerializer})
    def post(self, request):
        key, ticket = services.ws_ticket_issue(user=request.user)
        return Response({"ticket": key, "expires_at": ticket.expires_at,
                         "expires_in": services.TICKET_SECONDS}, status=status.HTTP_201_CREATED)


class RunHaltView(SandboxScopedMixin, APIView):
    """Halt a run (regulators): generation stops within a second, viewers see ``run.halted``."""

    write_capability = Cap.OVERSEE

    @extend_schema(request=ReasonSerializer, responses={200: HaltedRunSerializer})
    def post(self, request, sandbox_pk, run_pk):
        run = get_object_or_404(Run, pk=run_pk, sandbox=self.sandbox)
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = run_stop(run=run, status=RunStatus.HALTED, actor=request.user,
                           reason=serializer.validated_data["reason"])
        except RunAlreadyFinished:
            raise Conflict(f"Run {run.pk} has already finished ({run.status}).") from None
        return Response(HaltedRunSerializer(run).data)


class SuspendView(SandboxScopedMixin, APIView):
    """Suspend testing in the sandbox (regulators): every active run halts, new runs are refused."""

    write_capability = Cap.OVERSEE

    @extend_schema(request=ReasonSerializer, responses={200: SuspensionSerializer})
    def post(self, request, sandbox_pk):
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sandbox, halted = services.sandbox_suspend(
            sandbox=self.sandbox, actor=request.user, reason=serializer.validated_data["reason"])
        return Response({"id": sandbox.pk, "status": sandbox.status,
                         "suspension_reason": sandbox.suspension_reason,
                         "halted_runs": [run.pk for run in halted]})


class LiftSuspensionView(SandboxScopedMixin, APIView):
    """Lift the suspension (regulators): the sandbox is active again."""

    write_capability = Cap.OVERSEE

    @extend_schema(request=OptionalReasonSerializer, responses={200: SuspensionSerializer})
    def post(self, request, sandbox_pk):
        serializer = OptionalReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        sandbox = services.sandbox_lift_suspension(
            sandbox=self.sandbox, actor=request.user, reason=serializer.validated_data["reason"])
        return Response({"id": sandbox.pk, "status": sandbox.status,
                         "suspension_reason": sandbox.suspension_reason, "halted_runs": []})


class AnnotationListView(SandboxScopedMixin, generics.ListCreateAPIView):
    """Regulators' notes on turns; operators and regulators read them, regulators add them."""

    read_capability = Cap.MONITOR
    write_capability = Cap.OVERSEE
    serializer_class = AnnotationSerializer
    filterset_fields = ["run", "turn", "severity"]

    def get_queryset(self):
        return Annotation.objects.filter(sandbox=self.sandbox).select_related(
            "turn", "author").order_by("created_at", "id")

    @extend_schema(request=AnnotationCreateSerializer, responses={201: AnnotationSerializer})
    def post(self, request, *args, **kwargs):
        serializer = AnnotationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        annotation = services.annotation_add(
            sandbox=self.sandbox, actor=request.user, turn_id=serializer.validated_data["turn"],
            note=serializer.validated_data["note"],
            severity=serializer.validated_data["severity"])
        return Response(AnnotationSerializer(annotation).data, status=status.HTTP_201_CREATED)
