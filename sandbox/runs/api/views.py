"""REST API for runs: start, watch progress, read transcripts, cancel, refusal rates."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from domains.models import DomainModel
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap
from sandbox.runs import control, services
from sandbox.runs.api.serializers import RunCreateSerializer, RunSerializer, TranscriptSerializer
from sandbox.runs.models import Alert, Run, Session, Turn
from sandbox.runs.refusal import refusal_rates
from scenarios.models import Scenario


class RunViewSet(SandboxScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                 viewsets.GenericViewSet):
    """Runs of a sandbox. Reading needs the monitor capability (it reveals model identity)."""

    serializer_class = RunSerializer
    read_capability = Cap.MONITOR
    write_capability = Cap.CONFIGURE
    lookup_url_kwarg = "run_pk"
    filterset_fields = ["status"]

    def get_queryset(self):
        return Run.objects.filter(sandbox=self.sandbox).select_related("started_by", "halted_by")

    @extend_schema(request=RunCreateSerializer, responses={201: RunSerializer})
    def create(self, request, *args, **kwargs):
        body = RunCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        models = list(DomainModel.objects.filter(sandbox=self.sandbox, pk__in=data["models"]))
        missing = set(data["models"]) - {m.pk for m in models}
        if missing:
            raise ValidationError({"models": [f"No model {pk} in this sandbox."
                                              for pk in sorted(missing)]})
        scenarios = None
        if "scenarios" in data:
            scenarios = list(Scenario.objects.filter(sandbox=self.sandbox,
                                                     pk__in=data["scenarios"]))
            missing = set(data["scenarios"]) - {s.pk for s in scenarios}
            if missing:
                raise ValidationError({"scenarios": [f"No scenario {pk} in this sandbox."
                                                     for pk in sorted(missing)]})
        try:
            run = services.run_start(sandbox=self.sandbox, started_by=request.user,
                                     models=models, scenarios=scenarios,
                                     with_variants=data["variants"],
                                     variant_kinds=data.get("variant_kinds"))
        except ValueError as exc:  # an unknown probe kind
            raise ValidationError({"variant_kinds": [str(exc)]}) from exc
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        run = self.get_object()
        try:
            run = control.run_stop(run=run, status="cancelled", actor=request.user,
                                   reason=str(request.data.get("reason", "")))
        except control.RunAlreadyFinished:
            return Response({"detail": f"Run {run.pk} has already finished ({run.status})."},
                            status=status.HTTP_409_CONFLICT)
        return Response(RunSerializer(run).data)

    @extend_schema(responses=TranscriptSerializer(many=True), parameters=[
        OpenApiParameter("model", int), OpenApiParameter("scenario", str)])
    @action(detail=True, methods=["get"])
    def transcripts(self, request, *args, **kwargs):
        run = self.get_object()
        turns = Turn.objects.order_by("index").prefetch_related(
            "checks", Prefetch("alerts", queryset=Alert.objects.select_related("check_result")))
        sessions = Session.objects.filter(run=run).select_related("scenario", "model") \
            .prefetch_related(Prefetch("turns", queryset=turns)).order_by("id")
        if request.query_params.get("model"):
            sessions = sessions.filter(model_id=request.query_params["model"])
        if request.query_params.get("scenario"):
            sessions = sessions.filter(scenario__scenario_id=request.query_params["scenario"])
        page = self.paginate_queryset(sessions)
        return self.get_paginated_response(TranscriptSerializer(page, many=True).data)

    def get_serializer_class(self):
        if self.action == "transcripts":
            return TranscriptSerializer
        return RunSerializer


class RefusalRateView(SandboxScopedMixin, APIView):
    """Refusal rate per question bank and model, with a 95% Wilson interval."""

    read_capability = Cap.RESULTS

    @extend_schema(parameters=[OpenApiParameter("run", int)], responses={200: dict})
    def get(self, request, sandbox_pk):
        run = None
        if request.query_params.get("run"):
            run = get_object_or_404(Run, sandbox=self.sandbox, pk=request.query_params["run"])
        return Response({"results": refusal_rates(self.sandbox, run=run)})
