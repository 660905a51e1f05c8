"""The audit trail page of a sandbox, with its verification status, and its JSONL export."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render

from sandbox.audit.export import export_filename, jsonl_lines
from sandbox.audit.models import AuditEvent, canonical_json
from sandbox.audit.services import verify_chain
from sandbox.core.pages.access import sandbox_for
from sandbox.core.roles import Cap

PAGE_SIZE = 100


@login_required
def audit_trail(request, pk):
    sandbox = sandbox_for(request, pk, Cap.AUDIT)
    checked, broken = verify_chain(sandbox.pk)
    events = AuditEvent.objects.chain(sandbox.pk).order_by("-seq")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    for event in page:
        event.payload_json = canonical_json(event.payload)
    return render(request, "audit/trail.html", {
        "sandbox": sandbox, "page": page, "checked": checked, "broken": broken,
    })


@login_required
def audit_export(request, pk):
    sandbox = sandbox_for(request, pk, Cap.AUDIT)
    response = StreamingHttpResponse(jsonl_lines(sandbox.pk),
                                     content_type="application/jsonl; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{export_filename(sandbox)}"'
    return response
