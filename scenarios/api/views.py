"""REST API for scenario packs: import (all or nothing, errors with file:line:field), list,
read, preview attack variants."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from domains.services import paraphraser_for
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap
from scenarios.errors import ScenarioError
from scenarios.models import Scenario, ScenarioPack
from scenarios.probes import generate_variant_set
from scenarios.services import pack_import

MAX_PACK_BYTES = 2 * 1024 * 1024


class ScenarioSerializer(serializers.ModelSerializer):
    pack = serializers.CharField(source="pack.pack_id")

    class Meta:
        model = Scenario
        fields = ["id", "scenario_id", "title", "vertical", "language", "kind", "bank", "retired",
                  "risk_categories", "pack", "updated_at"]


class ScenarioDetailSerializer(ScenarioSerializer):
    class Meta(ScenarioSerializer.Meta):
        fields = [*ScenarioSerializer.Meta.fields, "spec"]


class PackSerializer(serializers.ModelSerializer):
    scenarios = serializers.IntegerField(source="scenarios.count", read_only=True)

    class Meta:
        model = ScenarioPack
        fields = ["id", "pack_id", "title", "version", "source_name", "imported_at", "scenarios"]


class ImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="A YAML pack (UTF-8).")
    yaml = serializers.CharField(required=False, trim_whitespace=False,
                                 help_text="The pack's YAML text, instead of a file.")
    filename = serializers.CharField(required=False, default="pack.yaml")


class YamlTextParser(JSONParser):
    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        return {"yaml": stream.read().decode("utf-8")}


class TextYamlParser(YamlTextParser):
    media_type = "text/yaml"


class ScenarioViewSet(SandboxScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      viewsets.GenericViewSet):
    """The sandbox's scenarios (operators and regulators read; operators import)."""

    read_capability = Cap.MONITOR
    write_capability = Cap.CONFIGURE
    lookup_url_kwarg = "scenario_pk"
    filterset_fields = ["kind", "bank", "language", "pack__pack_id", "retired"]
    parser_classes = [JSONParser, MultiPartParser, FormParser, YamlTextParser, TextYamlParser]

    def get_queryset(self):
        return Scenario.objects.filter(sandbox=self.sandbox).select_related("pack")

    def get_serializer_class(self):
        return ScenarioDetailSerializer if self.action == "retrieve" else ScenarioSerializer

    @extend_schema(request=ImportSerializer, responses={201: PackSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_pack(self, request, *args, **kwargs):
        body = ImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data.get("file")
        if upload is not None:
            if upload.size > MAX_PACK_BYTES:
                return Response({"file": [f"The pack is larger than {MAX_PACK_BYTES} bytes."]},
                                status=status.HTTP_400_BAD_REQUEST)
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                return Response({"file": ["The pack is not UTF-8 text."]},
                                status=status.HTTP_400_BAD_REQUEST)
            filename = upload.name
        elif body.validated_data.get("yaml"):
            text, filename = body.validated_data["yaml"], body.validated_data["filename"]
        else:
            return Response({"file": ["Send a YAML file, or the YAML text in `yaml`."]},
                            status=status.HTTP_400_BAD_REQUEST)
        try:
            record, counts = pack_import(sandbox=self.sandbox, text=text, filename=filename,
                                         actor=request.user)
        except ScenarioError as exc:
            return Response({"detail": "The pack has errors; nothing was imported.",
                             "errors": exc.to_list(),
                             "text": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        return Response({**PackSerializer(record).data, "counts": counts},
                        status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("kinds", str, description="comma-separated")],
                   responses={200: dict})
    @action(detail=True, methods=["get"])
    def variants(self, request, *args, **kwargs):
        scenario = self.get_object()
        kinds = request.query_params.get("kinds")
        try:
            result = generate_variant_set(scenario.spec, kinds.split(",") if kinds else None,
                                          paraphrase=paraphraser_for(self.sandbox))
        except ValueError as exc:
            return Response({"kinds": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"variants": result.variants, "skipped": result.skipped})


class PackViewSet(SandboxScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    read_capability = Cap.MONITOR
    serializer_class = PackSerializer

    def get_queryset(self):
        return ScenarioPack.objects.filter(sandbox=self.sandbox)
