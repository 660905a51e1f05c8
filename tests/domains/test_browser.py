"""In Chromium: register a model, test its connection, upload a document, search."""

import re

import pytest

from domains.models import DomainModel, KnowledgeDocument
from sandbox.core.models import Sandbox
from tests.browser.conftest import sign_in
from tests.conftest import free_port

pytestmark = pytest.mark.browser


@pytest.fixture
def csp_errors(page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    return errors


def test_operator_registers_a_model_and_tests_its_connection(page, demo, csp_errors):
    medical = Sandbox.objects.get(vertical="medical")
    sign_in(page, "operator")
    page.goto(f"/sandboxes/{medical.pk}/")
    page.click(".subnav >> text=Models")
    assert page.locator("tr.model-row").count() == DomainModel.objects.filter(
        sandbox=medical).count() >= 2

    page.click("#register-model")
    script_group = page.locator("fieldset[data-providers=scripted]")
    endpoint_group = page.locator("fieldset[data-providers='openai ollama']").first
    page.select_option("#id_provider", "scripted")
    assert script_group.is_visible() and not endpoint_group.is_visible()
    page.select_option("#id_provider", "openai")
    assert endpoint_group.is_visible() and not script_group.is_visible()
    page.fill("#id_name", "unreachable-llm")
    page.fill("#id_version", "1")
    page.fill("#id_base_url", f"http://127.0.0.1:{free_port()}/v1")
    page.fill("#id_model_name", "nothing-here")
    page.fill("#id_api_key_env", "sk-pasted-key")
    page.fill("#id_timeout_seconds", "5")
    page.click("#model-form button[type=submit]")
    field = page.locator("[data-field=api_key_env]")
    assert "not the key itself" in field.inner_text()
    assert page.locator("#id_api_key_env").input_value() == ""
    page.fill("#id_api_key_env", "UNREACHABLE_KEY")
    page.click("#model-form button[type=submit]")
    page.wait_for_url(re.compile(r"/models/$"))

    model = DomainModel.objects.get(sandbox=medical, name="unreachable-llm")
    row = page.locator(f"tr[data-model='{model.pk}']")
    assert "not set" in row.inner_text()
    row.locator("button.test-connection").click()
    page.wait_for_url(re.compile(r"/models/$"))
    assert "unreachable-llm 1: connection failed" in page.locator(".messages li.error").inner_text()

    scripted = DomainModel.objects.filter(sandbox=medical, provider="scripted").first()
    page.locator(f"tr[data-model='{scripted.pk}'] button.test-connection").click()
    page.wait_for_url(re.compile(r"/models/$"))
    assert re.search(r"answered in \d+ ms",
                     page.locator(".messages li.success").inner_text())
    assert csp_errors == []


def test_operator_uploads_a_document_and_an_expert_searches_it(page, demo, csp_errors, tmp_path):
    finance = Sandbox.objects.get(vertical="finance")
    sign_in(page, "operator")
    page.goto(f"/sandboxes/{finance.pk}/documents/")
    assert page.locator("tr.document-row").count() == 3  # the demo documents
    upload = tmp_path / "margin-trading.md"
    upload.write_text("# 融资融券风险提示\n\n融资融券交易具有杠杆效应，亏损可能超过本金。"
                      "投资者可能被强制平仓。\n", encoding="utf-8")
    page.set_input_files("#id_file", str(upload))
    page.click("#upload-document button[type=submit]")
    page.wait_for_url(re.compile(r"/documents/\d+/$"))
    assert page.locator("#document-title").inner_text() == "margin-trading"
    assert "强制平仓" in page.locator("#chunks").inner_text()
    document = KnowledgeDocument.objects.get(sandbox=finance, title="margin-trading")
    assert document.chunks.count() == 1

    page.click("#sign-out")
    sign_in(page, "expert2")
    page.goto(f"/sandboxes/{finance.pk}/")
    assert page.locator(".subnav >> text=Models").count() == 0
    page.click(".subnav >> text=Search")
    page.fill("#id_q", "融资融券会不会亏损超过本金")
    page.click("#search-form button[type=submit]")
    first = page.locator(".chunk-hit").first
    assert "margin-trading" in first.locator(".hitmeta").inner_text()
    assert page.locator("#answer-results").count() == 0
    assert csp_errors == []
