"""Sign in, see one's sandboxes, be refused another's, read the platform in Chinese."""

import pytest

from sandbox.core.models import Sandbox
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_operator_signs_in_and_sees_three_sandboxes(page, demo):
    sign_in(page, "operator")
    rows = page.locator("tr.sandbox-row")
    assert rows.count() == 3
    text = page.locator("#sandboxes").inner_text()
    for vertical in ("Automotive", "Medical", "Finance"):
        assert vertical in text


def test_regulator2_opening_the_medical_sandbox_gets_not_found(page, demo):
    medical = Sandbox.objects.get(vertical="medical")
    sign_in(page, "regulator2")
    assert page.locator("tr.sandbox-row").count() == 1
    response = page.goto(f"/sandboxes/{medical.pk}/")
    assert response.status == 404
    assert page.locator("#not-found").inner_text() == "Not found"
    assert medical.name not in page.content()


def test_switching_to_chinese_translates_the_page(page, demo):
    sign_in(page, "expert1")
    assert page.locator("h1").inner_text() == "My sandboxes"
    page.click("button[data-lang=zh-hans]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "我的沙盒"
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert "领域专家" in page.locator("#sandboxes").inner_text()
    page.click("button[data-lang=en]")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "My sandboxes"


def test_sign_out_returns_to_the_sign_in_page(page, demo):
    sign_in(page, "outsider")
    assert page.locator("#no-sandboxes").is_visible()
    page.click("#sign-out")
    page.wait_for_url("**/login/")
    page.goto("/")
    assert "/login/" in page.url
