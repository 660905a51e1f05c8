"""REST API: the domain-model registry, the knowledge base and similarity search.

All views are nested under ``/api/v1/sandboxes/{sandbox_pk}/`` and scoped by
``SandboxScopedMixin``: another sandbox's resources answer 404.

* models: operators configure; operators and regulators read (``Cap.MONITOR``);
  experts never see models, which would break their blindness to model identity.
* documents: operators write; every member reads (``Cap.VIEW``) -- documents
  say nothing about which model answered what.
* search: every member gets similar chunks; similar model answers are added
  only for members who monitor (an expert's reply has no ``answers`` key).
"""

from django.db.models import Count
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from domains import knowledge, services
from domains.api.serializers import (
    ConnectionResultSerializer,
    DocumentCreateSerializer,
    DocumentDetailSerializer,
    DocumentSerializer,
    DomainModelSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
)
from domains.embeddings import EmbeddingError
from domains.models import DomainModel, KnowledgeDocument
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap, can


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


class EmbeddingUnavailable(APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "embedding_unavailable"


def _embedding_failed(exc: EmbeddingError) -> EmbeddingUnavailable:
    return EmbeddingUnavailable(_("The embedding provider failed: %(error)s") % {"error": exc})


class DomainModelViewSet(SandboxScopedMixin, viewsets.ModelViewSet):
    """Models registered in the sandbox: a small model card and how to reach the model."""

    serializer_class = DomainModelSerializer
    queryset = DomainModel.objects.none()  # for the schema; get_queryset() scopes by sandbox
    read_capability = Cap.MONITOR
    write_capability = Cap.CONFIGURE
    action_capabilities = {"test_connection": Cap.CONFIGURE}
    filterset_fields = ["provider", "role", "is_active"]
    ordering_fields = ["name", "created_at"]

    def get_queryset(self):
        return DomainModel.objects.in_sandbox(self.sandbox).order_by("name", "version", "id")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        model = services.domain_model_create(sandbox=self.sandbox, actor=request.user,
                                             **serializer.validated_data)
        return Response(self.get_serializer(model).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        serializer = self.get_serializer(self.get_object(), data=request.data,
                                         partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        model = services.domain_model_update(model=serializer.instance, actor=request.user,
                                             **serializer.validated_data)
        return Response(self.get_serializer(model).data)

    def destroy(self, request, *args, **kwargs):
        try:
            services.domain_model_delete(model=self.get_object(), actor=request.user)
        except services.ModelInUse as exc:
            raise Conflict(str(exc)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=ConnectionResultSerializer)
    @action(detail=True, methods=["post"], url_path="test-connection")
    def test_connection(self, request, *args, **kwargs):
        """Send the model a short prompt; report latency and a sample, or the error."""
        result = services.domain_model_test_connection(model=self.get_object(),
                                                       actor=request.user)
        return Response(ConnectionResultSerializer(result).data)


class DocumentViewSet(SandboxScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, mixins.DestroyModelMixin,
                      viewsets.GenericViewSet):
    """The sandbox's knowledge documents: upload text or Markdown; it is chunked and embedded."""

    queryset = KnowledgeDocument.objects.none()  # for the schema; get_queryset() scopes
    read_capability = Cap.VIEW
    write_capability = Cap.CONFIGURE
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["title", "created_at"]

    def get_queryset(self):
        return (KnowledgeDocument.objects.filter(sandbox=self.sandbox)
                .select_related("uploaded_by").annotate(chunk_count=Count("chunks"))
                .order_by("title", "id"))

    def get_serializer_class(self):
        if self.action == "retrieve":
            return DocumentDetailSerializer
        return DocumentSerializer

    @extend_schema(request=DocumentCreateSerializer, responses={201: DocumentSerializer})
    def create(self, request, *args, **kwargs):
        form = DocumentCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            document = knowledge.document_add(sandbox=self.sandbox, actor=request.user,
                                              **form.validated_data)
        except EmbeddingError as exc:
            raise _embedding_failed(exc) from None
        document = self.get_queryset().get(pk=document.pk)
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        knowledge.document_delete(document=instance, actor=self.request.user)


class SearchView(SandboxScopedMixin, APIView):
    """Chunks of the knowledge base, and model answers from the transcripts, similar to ``q``."""

    read_capability = Cap.VIEW

    @extend_schema(parameters=[OpenApiParameter("q", str, required=True),
                               OpenApiParameter("k", int, description="1–50, default 10")],
                   responses=SearchResultSerializer)
    def get(self, request, *args, **kwargs):
        query = SearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q, k = query.validated_data["q"], query.validated_data["k"]
        try:
            result = {"chunks": knowledge.retrieve(self.sandbox, q, k)}
            if can(self.sandbox.my_role, Cap.MONITOR):
                result["answers"] = knowledge.search_answers(self.sandbox, q, k)
        except EmbeddingError as exc:
            raise _embedding_failed(exc) from None
        return Response(result)
