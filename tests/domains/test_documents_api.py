"""The knowledge-base API: JSON and file uploads, chunking, limits with clear errors, audit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from domains.models import Chunk, KnowledgeDocument
from sandbox.audit.models import AuditEvent
from tests.domains.conftest import CHEST_PAIN, DOSING


def url(sandbox, *rest):
    return f"/api/v1/sandboxes/{sandbox.pk}/documents/" + "".join(f"{r}/" for r in rest)


def test_operator_adds_a_markdown_document_as_json(api, alice, sandbox_a):
    response = api(alice).post(url(sandbox_a), {"title": "Dosing", "content": DOSING},
                               format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    document = KnowledgeDocument.objects.get(pk=body["id"])
    chunks = list(document.chunks.order_by("index"))
    assert body["chunk_count"] == len(chunks) == 2  # one per heading section
    assert chunks[0].text.startswith("Paracetamol dosing › Adults\n")
    assert chunks[1].text.startswith("Paracetamol dosing › Children\n")
    assert {c.sandbox_id for c in chunks} == {sandbox_a.pk}
    assert all(c.embedder == document.embedder == "hashing-words-v2" for c in chunks)
    event = AuditEvent.objects.get(action="document.add")
    assert event.payload["chunks"] == 2 and event.target_id == str(document.pk)


def test_detail_lists_the_chunks(api, bob, doc_a):
    body = api(bob).get(url(doc_a.sandbox, doc_a.pk)).json()
    assert body["chunk_count"] == 2
    assert [c["index"] for c in body["chunks"]] == [0, 1]
    assert "15 mg per kg" in body["chunks"][1]["text"]
    assert body["content"] == doc_a.content


def test_a_utf8_text_file_upload_is_chunked_and_titled_by_its_name(api, alice, sandbox_a):
    text = "# 胸痛\n\n胸痛向左臂放射并伴出汗，可能是心肌梗死。请立即拨打120急救电话。\n"
    upload = SimpleUploadedFile("胸痛指引.md", text.encode("utf-8"), content_type="text/markdown")
    response = api(alice).post(url(sandbox_a), {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    document = KnowledgeDocument.objects.get(pk=response.json()["id"])
    assert document.title == "胸痛指引"
    assert document.language == "zh"
    assert document.chunks.get().text.startswith("胸痛\n")


@pytest.mark.parametrize("name, data, field, message", [
    ("notes.pdf", b"%PDF-1.7", "file", "Upload a .txt or .md file."),
    ("latin1.txt", "Café à la carte".encode("latin-1"), "file", "The file is not UTF-8 text."),
    ("big.txt", b"a" * 2001, "file", "The file is larger than 2 KB."),
])
def test_bad_uploads_get_an_error_naming_the_file_field(api, alice, sandbox_a, settings,
                                                        name, data, field, message):
    settings.KNOWLEDGE_MAX_DOCUMENT_BYTES = 2000
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    response = api(alice).post(url(sandbox_a), {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert not KnowledgeDocument.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"title": "Empty", "content": "   "}, "content"),
    ({"content": "Some text"}, "title"),
    ({"title": "Huge", "content": "x" * 2001}, "content"),
])
def test_bad_json_documents_name_the_field(api, alice, sandbox_a, settings, body, field):
    settings.KNOWLEDGE_MAX_DOCUMENT_BYTES = 2000
    response = api(alice).post(url(sandbox_a), body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Chunk.objects.exists()


def test_nothing_is_stored_when_embedding_fails(api, alice, sandbox_a, settings):
    settings.EMBEDDINGS = {"provider": "openai", "base_url": "http://127.0.0.1:9/v1",
                           "model": "nomic-embed-text", "timeout": 2}
    response = api(alice).post(url(sandbox_a), {"title": "Chest pain", "content": CHEST_PAIN},
                               format="json")
    assert response.status_code == 503
    assert "embedding endpoint http://127.0.0.1:9/v1/embeddings unreachable" in \
        response.json()["detail"]
    assert not KnowledgeDocument.objects.exists() and not Chunk.objects.exists()
    assert not AuditEvent.objects.filter(action="document.add").exists()


def test_delete_removes_chunks_and_is_audited(api, alice, doc_a):
    assert api(alice).delete(url(doc_a.sandbox, doc_a.pk)).status_code == 204
    assert not Chunk.objects.filter(document_id=doc_a.pk).exists()
    event = AuditEvent.objects.get(action="document.delete")
    assert event.payload == {"title": "Dosing", "chunks": 2}


def test_a_document_title_with_markup_is_stored_as_text(api, alice, sandbox_a):
    title = "<script>alert(1)</script>"
    response = api(alice).post(url(sandbox_a), {"title": title, "content": "plain"},
                               format="json")
    assert response.json()["title"] == title
