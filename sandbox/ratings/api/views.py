"""REST API of the ratings part, nested under /api/v1/sandboxes/{sandbox_pk}/.

Views parse, call one service, and serialize. Experts only ever receive
:func:`sandbox.ratings.blind.blind_item` and their own ratings.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from sandbox.audit.services import audit_record
from sandbox.core.api.permissions import SandboxScopedMixin
from sandbox.core.roles import Cap, can
from sandbox.ratings import services
from sandbox.ratings.api import serializers as s
from sandbox.ratings.blind import blind_item
from sandbox.ratings.exports import CSV_LONG, EXPORT_FORMATS, csv_text, export_rows, jsonl_lines
from sandbox.ratings.models import Rating, RatingConfig, RatingItem, Rubric
from sandbox.ratings.results import compute_results
from sandbox.ratings.rubric_format import default_objectives
from sandbox.ratings.services.submissions import item_agreement
from sandbox.ratings.services.values import parse_uuid
from sandbox.runs.models import Run


class RubricView(SandboxScopedMixin, APIView):
    """The sandbox's current rubric (GET, every member); a new version (POST, operators)."""

    read_capability = Cap.VIEW
    write_capability = Cap.CONFIGURE

    def get(self, request, sandbox_pk):
        rubric = Rubric.objects.current_for(self.sandbox)
        if rubric is None:
            return Response({"version": None, "objectives": default_objectives(
                self.sandbox.vertical), "note": "vertical defaults (not saved yet)",
                "created_by": None, "created_at": None})
        return Response(s.rubric_data(rubric))

    @extend_schema(request=s.RubricCreateSerializer)
    def post(self, request, sandbox_pk):
        data = s.RubricCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rubric = services.rubric_create(sandbox=self.sandbox, actor=request.user,
                                        **data.validated_data)
        return Response(s.rubric_data(rubric), status=status.HTTP_201_CREATED)


class RubricVersionsView(SandboxScopedMixin, APIView):
    """Every saved version of the rubric, newest first."""

    read_capability = Cap.VIEW

    def get(self, request, sandbox_pk):
        rubrics = Rubric.objects.filter(sandbox=self.sandbox).select_related("created_by")
        return Response([s.rubric_data(r) for r in rubrics])


class RatingSettingsView(SandboxScopedMixin, APIView):
    """k (experts per item), gold rate, lease length, agreement floor: operators only."""

    read_capability = Cap.CONFIGURE
    write_capability = Cap.CONFIGURE

    def get(self, request, sandbox_pk):
        return Response(s.settings_data(self.sandbox, RatingConfig.of(self.sandbox)))

    @extend_schema(request=s.RatingSettingsSerializer)
    def patch(self, request, sandbox_pk):
        data = s.RatingSettingsSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        config = services.rating_config_update(sandbox=self.sandbox, actor=request.user,
                                               **data.validated_data)
        return Response(s.settings_data(self.sandbox, config))


class RatingItemsView(SandboxScopedMixin, APIView):
    """Items with their models and status (reveals identity: operators and regulators)."""

    read_capability = Cap.MONITOR

    def get(self, request, sandbox_pk):
        items = (RatingItem.objects.in_sandbox(self.sandbox)
                 .select_related("model_a", "model_b").order_by("created_at", "order_key"))
        for name in ("status", "kind"):
            if request.query_params.get(name):
                items = items.filter(**{name: request.query_params[name]})
        return Response([s.item_data(i) for i in items])


class RatingItemDetailView(SandboxScopedMixin, APIView):
    """One item with every rating and the agreement per objective (for adjudication)."""

    read_capability = Cap.MONITOR

    def get(self, request, sandbox_pk, item_id):
        item = _item(self.sandbox, item_id)
        rubric = Rubric.objects.current_for(self.sandbox)
        ratings = item.ratings.current().select_related("rater", "rubric")
        return Response({
            **s.item_data(item),
            "context": item.context, "answers": {"a": item.answer_a, "b": item.answer_b},
            "gold": item.gold,
            "agreement": item_agreement(item, rubric) if rubric else {},
            "ratings": [{"rater": r.rater.get_username(), **s.own_rating_data(r)}
                        for r in ratings],
            "adjudications": [s.adjudication_data(a) for a in
                              item.adjudications.select_related("decided_by")],
        })


def _item(sandbox, item_id) -> RatingItem:
    item = (RatingItem.objects.in_sandbox(sandbox).select_related("model_a", "model_b")
            .filter(pk=parse_uuid(item_id)).first())
    if item is None:
        raise NotFound()
    return item


class RatingItemsGenerateView(SandboxScopedMixin, APIView):
    """Create the rating items of a run (idempotent): operators."""

    write_capability = Cap.CONFIGURE

    @extend_schema(request=s.GenerateSerializer)
    def post(self, request, sandbox_pk):
        data = s.GenerateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = Run.objects.filter(sandbox=self.sandbox, pk=data.validated_data["run"]).first()
        if run is None:
            raise ValidationError({"run": ["No run with this id in this sandbox."]})
        created = services.rating_items_create_for_run(run=run, actor=request.user)
        return Response({"created": created}, status=status.HTTP_201_CREATED if created
                        else status.HTTP_200_OK)


class RatingItemGoldView(SandboxScopedMixin, APIView):
    """Make an item a hidden gold item with its expected values: operators."""

    write_capability = Cap.CONFIGURE

    @extend_schema(request=s.ValuesSerializer)
    def post(self, request, sandbox_pk, item_id):
        data = s.ValuesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        item = services.rating_item_mark_gold(item=_item(self.sandbox, item_id),
                                              actor=request.user, **data.validated_data)
        return Response(s.item_data(item))


class RatingItemAdjudicateView(SandboxScopedMixin, APIView):
    """Decide on an item whose experts disagreed: operators."""

    write_capability = Cap.CONFIGURE

    @extend_schema(request=s.AdjudicateSerializer)
    def post(self, request, sandbox_pk, item_id):
        data = s.AdjudicateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        adjudication = services.item_adjudicate(item=_item(self.sandbox, item_id),
                                                actor=request.user, **data.validated_data)
        return Response(s.adjudication_data(adjudication))


class QueueNextView(SandboxScopedMixin, APIView):
    """The expert's next item, leased to them (200), or nothing left (204)."""

    read_capability = Cap.RATE

    @extend_schema(responses={200: OpenApiResponse(description="A blind item"),
                              204: OpenApiResponse(description="Nothing left to rate")})
    def get(self, request, sandbox_pk):
        lease = services.assignment_next(sandbox=self.sandbox, expert=request.user)
        if lease is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        rubric = (Rubric.objects.current_for(self.sandbox)
                  or services.rubric_ensure(sandbox=self.sandbox))
        progress = services.queue_progress(sandbox=self.sandbox, expert=request.user)
        return Response(blind_item(lease.item, rubric=rubric, lease=lease, progress=progress))


class QueueSkipView(SandboxScopedMixin, APIView):
    """Skip the leased item with a reason."""

    read_capability = Cap.RATE
    write_capability = Cap.RATE

    @extend_schema(request=s.SkipSerializer)
    def post(self, request, sandbox_pk):
        data = s.SkipSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.assignment_skip(sandbox=self.sandbox, expert=request.user,
                                 item_id=data.validated_data["item"],
                                 reason=data.validated_data["reason"])
        return Response({"skipped": data.validated_data["item"]})


class RatingsView(SandboxScopedMixin, APIView):
    """The expert's own ratings (GET) and a new rating of a leased item (POST)."""

    read_capability = Cap.RATE
    write_capability = Cap.RATE

    def get(self, request, sandbox_pk):
        ratings = (self._own().filter(is_current=True) if request.query_params.get("all") is None
                   else self._own())
        return Response([s.own_rating_data(r) for r in ratings])

    def _own(self):
        return (Rating.objects.filter(sandbox=self.sandbox, rater=self.request.user)
                .select_related("rubric").order_by("created_at"))

    @extend_schema(request=s.RatingSubmitSerializer)
    def post(self, request, sandbox_pk):
        data = s.RatingSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        rating = services.rating_submit(sandbox=self.sandbox, rater=request.user,
                                        item_id=fields.pop("item"), **fields)
        return Response(s.own_rating_data(rating), status=status.HTTP_201_CREATED)


class RatingDetailView(SandboxScopedMixin, APIView):
    """One of the expert's own ratings (GET); an edit creates its next version (PATCH)."""

    read_capability = Cap.RATE
    write_capability = Cap.RATE

    def get(self, request, sandbox_pk, rating_id):
        rating = (Rating.objects.filter(sandbox=self.sandbox, rater=request.user,
                                        pk=parse_uuid(rating_id)).select_related("rubric")
                  .first())
        if rating is None:
            raise NotFound()
        return Response(s.own_rating_data(rating))

    @extend_schema(request=s.RatingReviseSerializer)
    def patch(self, request, sandbox_pk, rating_id):
        data = s.RatingReviseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rating_revise(sandbox=self.sandbox, rater=request.user,
                                        rating_id=rating_id, **data.validated_data)
        return Response(s.own_rating_data(rating))


class ResultsView(SandboxScopedMixin, APIView):
    """Per-model results (operators, regulators; experts once released)."""

    read_capability = Cap.RESULTS

    def get(self, request, sandbox_pk):
        only = None if can(self.sandbox.my_role, Cap.RESULTS) else request.user.get_username()
        return Response(compute_results(self.sandbox, only_rater=only))


class ReleaseView(SandboxScopedMixin, APIView):
    """Release the results to the sandbox's experts (operators; cannot be undone)."""

    write_capability = Cap.CONFIGURE

    @extend_schema(request=None)
    def post(self, request, sandbox_pk):
        services.results_release(sandbox=self.sandbox, actor=request.user)
        return Response({"results_released": True})


class ExportView(SandboxScopedMixin, APIView):
    """A preference dataset or the long table: operators and regulators, after release.

    ``?criterion=composite`` (default) or an objective key picks what "chosen" means.
    """

    read_capability = Cap.RESULTS

    def get(self, request, sandbox_pk, format_name):
        sandbox = self.sandbox
        if not can(sandbox.my_role, Cap.RESULTS):
            raise PermissionDenied("Exports are for the sandbox's operators and regulators.")
        if not sandbox.results_released:
            raise PermissionDenied("Exports open once an operator releases the results.")
        if format_name not in EXPORT_FORMATS:
            raise NotFound(f"Unknown export format; choose one of {', '.join(EXPORT_FORMATS)}.")
        criterion = request.query_params.get("criterion", "composite")
        rows = export_rows(sandbox, format_name, criterion)
        audit_record(sandbox=sandbox, actor=request.user, action="results.export",
                     payload={"format": format_name, "criterion": criterion})
        stem = f"sandbox-{sandbox.pk}-{format_name}-{criterion}"
        if format_name == CSV_LONG:
            response = HttpResponse(csv_text(rows), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
            return response
        response = HttpResponse("".join(jsonl_lines(rows)),
                                content_type="application/jsonl; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.jsonl"'
        return response
