"""The registry, knowledge-base and search pages: roles, isolation, escaping, forms, audit."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from domains.models import DomainModel, KnowledgeDocument
from sandbox.audit.models import AuditEvent
from tests.domains.conftest import saved_turn

HOSTILE = '<img src=x onerror="alert(1)">'


def page_paths(sandbox, model, doc):
    base = f"/sandboxes/{sandbox.pk}/"
    return {
        "models": base + "models/", "new model": base + "models/new/",
        "edit model": base + f"models/{model.pk}/edit/", "documents": base + "documents/",
        "document": base + f"documents/{doc.pk}/", "search": base + "search/?q=dose",
    }


@pytest.mark.parametrize("user, expected", [
    ("alice", {"models": 200, "new model": 200, "edit model": 200, "documents": 200,
               "document": 200, "search": 200}),
    ("bob", {"models": 403, "new model": 403, "edit model": 403, "documents": 200,
             "document": 200, "search": 200}),
    ("rita", {"models": 200, "new model": 403, "edit model": 403, "documents": 200,
              "document": 200, "search": 200}),
    ("charlie", {"models": 404, "new model": 404, "edit model": 404, "documents": 404,
                 "document": 404, "search": 404}),
    ("olga", {"models": 404, "new model": 404, "edit model": 404, "documents": 404,
              "document": 404, "search": 404}),
])
def test_page_access_by_role(signed_in, request, model_a, doc_a, user, expected):
    client = signed_in(request.getfixturevalue(user))
    got = {name: client.get(path).status_code
           for name, path in page_paths(model_a.sandbox, model_a, doc_a).items()}
    assert got == expected


def test_another_sandboxs_objects_are_not_found_through_a_sandbox_one_belongs_to(
        signed_in, alice, sandbox_a, model_b, doc_b):
    client = signed_in(alice)
    base = f"/sandboxes/{sandbox_a.pk}/"
    assert client.get(base + f"models/{model_b.pk}/edit/").status_code == 404
    assert client.get(base + f"documents/{doc_b.pk}/").status_code == 404
    assert client.post(base + f"models/{model_b.pk}/delete/").status_code == 404
    assert client.post(base + f"models/{model_b.pk}/test/").status_code == 404
    assert client.post(base + f"documents/{doc_b.pk}/delete/").status_code == 404
    assert DomainModel.objects.filter(pk=model_b.pk).exists()
    assert KnowledgeDocument.objects.filter(pk=doc_b.pk).exists()


def test_the_nav_shows_models_to_monitors_only(signed_in, bob, rita, sandbox_a):
    overview = f"/sandboxes/{sandbox_a.pk}/"
    expert_page = signed_in(bob).get(overview).content.decode()
    assert f"{overview}documents/" in expert_page and f"{overview}search/" in expert_page
    assert f"{overview}models/" not in expert_page
    assert f"{overview}models/" in signed_in(rita).get(overview).content.decode()


def test_operator_registers_a_scripted_model_through_the_form(signed_in, alice, sandbox_a):
    response = signed_in(alice).post(f"/sandboxes/{sandbox_a.pk}/models/new/", {
        "name": "form-med", "version": "0.1", "provider": "scripted", "role": "subject",
        "is_active": "on", "temperature": 0, "max_tokens": 256, "timeout_seconds": 30,
        "rag_top_k": 4, "base_url": "", "model_name": "", "api_key_env": "",
        "script": "rules:\n  - match: 胸痛\n    reply: 请拨打120\ndefault: 请咨询医生\n"})
    assert response.status_code == 302, response.content.decode()
    model = DomainModel.objects.get(name="form-med")
    assert model.script == {"rules": [{"match": "胸痛", "reply": "请拨打120"}],
                            "default": "请咨询医生"}
    assert AuditEvent.objects.filter(action="model.create", target_id=str(model.pk)).exists()


def test_form_errors_name_the_field(signed_in, alice, sandbox_a):
    client = signed_in(alice)
    base = {"name": "x", "role": "subject", "temperature": 0, "max_tokens": 1,
            "timeout_seconds": 1, "rag_top_k": 1}
    page = client.post(f"/sandboxes/{sandbox_a.pk}/models/new/", {
        **base, "provider": "scripted",
        "script": "rules:\n  - match: '(oops'\n    reply: r\ndefault: d\n"}).content.decode()
    assert 'data-field="script"' in page and "rules[0].match: invalid regular expression" in page
    page = client.post(f"/sandboxes/{sandbox_a.pk}/models/new/", {
        **base, "provider": "openai", "api_key_env": "sk-123"}).content.decode()
    assert "not the key itself" in page and "sk-123" not in page
    assert "needs its endpoint" in page
    assert not DomainModel.objects.exists()


def test_model_text_is_escaped_on_every_page(signed_in, alice, rita, sandbox_a):
    from domains import knowledge, services

    model = services.domain_model_create(
        sandbox=sandbox_a, actor=alice, name=HOSTILE, description=HOSTILE, provider="scripted",
        script={"rules": [], "default": "ok"})
    doc = knowledge.document_add(sandbox=sandbox_a, title=HOSTILE, actor=alice,
                                 content=f"# {HOSTILE}\nDose {HOSTILE}")
    saved_turn(model, user_message=f"dose {HOSTILE}", answer=f"Dose {HOSTILE}")
    client = signed_in(rita)
    for path in ("models/", "documents/", f"documents/{doc.pk}/", "search/?q=dose"):
        page = client.get(f"/sandboxes/{sandbox_a.pk}/{path}").content.decode()
        assert HOSTILE not in page, path
        assert "&lt;img src=x onerror=" in page, path


def test_operator_uploads_a_file_and_sees_its_chunks(signed_in, alice, sandbox_a):
    client = signed_in(alice)
    upload = SimpleUploadedFile("triage.md", b"# Triage\nCall 911 for chest pain.\n")
    response = client.post(f"/sandboxes/{sandbox_a.pk}/documents/", {"file": upload})
    document = KnowledgeDocument.objects.get(title="triage")
    assert response.status_code == 302
    assert response["Location"] == f"/sandboxes/{sandbox_a.pk}/documents/{document.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "Triage\nCall 911 for chest pain." in page


def test_an_upload_that_is_not_utf8_shows_the_error_on_the_file_field(signed_in, alice,
                                                                       sandbox_a):
    upload = SimpleUploadedFile("notes.txt", "Café".encode("latin-1"))
    page = signed_in(alice).post(f"/sandboxes/{sandbox_a.pk}/documents/",
                                 {"file": upload}).content.decode()
    assert "The file is not UTF-8 text." in page and "has-error" in page
    assert not KnowledgeDocument.objects.exists()


def test_experts_cannot_add_or_delete_documents(signed_in, bob, sandbox_a, doc_a):
    client = signed_in(bob)
    page = client.get(f"/sandboxes/{sandbox_a.pk}/documents/").content.decode()
    assert 'id="upload-document"' not in page
    response = client.post(f"/sandboxes/{sandbox_a.pk}/documents/",
                           {"title": "t", "content": "c"})
    assert response.status_code == 403
    assert client.post(f"/sandboxes/{sandbox_a.pk}/documents/{doc_a.pk}/delete/"
                       ).status_code == 403
    assert KnowledgeDocument.objects.count() == 1


def test_the_expert_search_page_has_no_answers(signed_in, bob, sandbox_a, doc_a, model_a):
    saved_turn(model_a, user_message="dose?", answer="Paracetamol 1 g every 6 hours.")
    page = signed_in(bob).get(f"/sandboxes/{sandbox_a.pk}/search/?q=paracetamol"
                              ).content.decode()
    assert 'id="chunk-results"' in page and "Adults take 500 mg" in page
    assert 'id="answer-results"' not in page and "careful-med" not in page


def test_test_connection_button_reports_the_result(signed_in, alice, model_a, stub_llm):
    client = signed_in(alice)
    response = client.post(f"/sandboxes/{model_a.sandbox_id}/models/{model_a.pk}/test/",
                           follow=True)
    page = response.content.decode()
    assert "careful-med 1.0 answered in 12 ms: “pong &lt;b&gt;”" in page
    assert AuditEvent.objects.filter(action="model.test_connection").count() == 1
