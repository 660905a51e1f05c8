"""Pages: the model registry, the knowledge documents and similarity search of a sandbox."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from domains import knowledge, services
from domains.embeddings import EmbeddingError
from domains.models import DomainModel, KnowledgeDocument
from domains.pages.forms import DocumentPasteForm, DocumentUploadForm, DomainModelForm, SearchForm
from sandbox.core.pages.access import sandbox_for
from sandbox.core.pages.errors import apply_to_form
from sandbox.core.roles import Cap, can


@login_required
def model_list(request, pk):
    sandbox = sandbox_for(request, pk, Cap.MONITOR)
    return render(request, "domains/model_list.html", {
        "sandbox": sandbox,
        "models": DomainModel.objects.in_sandbox(sandbox).order_by("name", "version", "id"),
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
    })


def _model_form(request, sandbox, model=None):
    form = DomainModelForm(request.POST or None,
                           instance=model or DomainModel(sandbox=sandbox))
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in form.fields}
        try:
            if model is None:
                services.domain_model_create(sandbox=sandbox, actor=request.user, **fields)
            else:
                services.domain_model_update(model=model, actor=request.user, **fields)
        except ValidationError as exc:
            apply_to_form(form, exc)
        else:
            messages.success(request, _("Model saved."))
            return redirect("domain-models", sandbox.pk)
    return render(request, "domains/model_form.html",
                  {"sandbox": sandbox, "form": form, "model": model})


@login_required
def model_create(request, pk):
    return _model_form(request, sandbox_for(request, pk, Cap.CONFIGURE))


@login_required
def model_edit(request, pk, model_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    return _model_form(request, sandbox, get_object_or_404(DomainModel, pk=model_pk,
                                                           sandbox=sandbox))


@login_required
@require_POST
def model_delete(request, pk, model_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    model = get_object_or_404(DomainModel, pk=model_pk, sandbox=sandbox)
    try:
        services.domain_model_delete(model=model, actor=request.user)
    except services.ModelInUse as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Model deleted."))
    return redirect("domain-models", sandbox.pk)


@login_required
@require_POST
def model_test(request, pk, model_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    model = get_object_or_404(DomainModel, pk=model_pk, sandbox=sandbox)
    result = services.domain_model_test_connection(model=model, actor=request.user)
    if result.get("ok"):
        messages.success(request, _("%(model)s answered in %(ms).0f ms: “%(sample)s”") % {
            "model": model.label, "ms": result.get("latency_ms") or 0,
            "sample": (result.get("sample") or "")[:200]})
    else:
        messages.error(request, _("%(model)s: connection failed: %(error)s") % {
            "model": model.label, "error": result.get("error") or _("unknown error")})
    return redirect("domain-models", sandbox.pk)


@login_required
def document_list(request, pk):
    sandbox = sandbox_for(request, pk, Cap.VIEW)
    can_configure = can(sandbox.my_role, Cap.CONFIGURE)
    upload_form, paste_form = DocumentUploadForm(), DocumentPasteForm()
    if request.method == "POST":
        sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
        if "file" in request.FILES:
            upload_form = DocumentUploadForm(request.POST, request.FILES)
            form = upload_form
        else:
            paste_form = DocumentPasteForm(request.POST)
            form = paste_form
        if form.is_valid():
            try:
                fields = (knowledge.read_upload(form.cleaned_data["file"])
                          if form is upload_form else
                          {"title": form.cleaned_data["title"],
                           "content": form.cleaned_data["content"]})
                if form.cleaned_data.get("title"):
                    fields["title"] = form.cleaned_data["title"]
                document = knowledge.document_add(sandbox=sandbox, actor=request.user, **fields)
            except ValidationError as exc:
                apply_to_form(form, exc)
            except EmbeddingError as exc:
                form.add_error(None, _("The embedding provider failed: %(error)s")
                               % {"error": exc})
            else:
                messages.success(request, _("Document added; chunks: %(count)d.")
                                 % {"count": document.chunks.count()})
                return redirect("knowledge-document", sandbox.pk, document.pk)
    documents = (KnowledgeDocument.objects.filter(sandbox=sandbox)
                 .annotate(chunk_count=Count("chunks")).order_by("title", "id"))
    return render(request, "domains/document_list.html", {
        "sandbox": sandbox, "documents": documents, "can_configure": can_configure,
        "upload_form": upload_form, "paste_form": paste_form,
    })


@login_required
def document_detail(request, pk, doc_pk):
    sandbox = sandbox_for(request, pk, Cap.VIEW)
    document = get_object_or_404(KnowledgeDocument, pk=doc_pk, sandbox=sandbox)
    return render(request, "domains/document_detail.html", {
        "sandbox": sandbox, "document": document,
        "chunks": document.chunks.order_by("index"),
        "can_configure": can(sandbox.my_role, Cap.CONFIGURE),
    })


@login_required
@require_POST
def document_delete(request, pk, doc_pk):
    sandbox = sandbox_for(request, pk, Cap.CONFIGURE)
    document = get_object_or_404(KnowledgeDocument, pk=doc_pk, sandbox=sandbox)
    knowledge.document_delete(document=document, actor=request.user)
    messages.success(request, _("Document deleted."))
    return redirect("knowledge-documents", sandbox.pk)


@login_required
def search(request, pk):
    sandbox = sandbox_for(request, pk, Cap.VIEW)
    can_monitor = can(sandbox.my_role, Cap.MONITOR)
    form = SearchForm(request.GET or None)
    chunks, answers, error = None, None, None
    if form.is_valid():
        query = form.cleaned_data["q"]
        try:
            chunks = knowledge.retrieve(sandbox, query, 10)
            if can_monitor:
                answers = knowledge.search_answers(sandbox, query, 10)
        except EmbeddingError as exc:
            error = _("The embedding provider failed: %(error)s") % {"error": exc}
    return render(request, "domains/search.html", {
        "sandbox": sandbox, "form": form, "chunks": chunks, "answers": answers,
        "can_monitor": can_monitor, "error": error,
    })
