"""Server-rendered pages: list, overview, forms, errors, language."""


from sandbox.core.models import Sandbox
from tests.conftest import PASSWORD


def test_sandbox_list_shows_only_own_sandboxes_with_role(signed_in, bob, sandbox_a, sandbox_b):
    page = signed_in(bob).get("/").content.decode()
    assert "Sandbox A" in page and "Sandbox B" not in page
    assert "Domain expert" in page


def test_overview_lists_members_and_roles(signed_in, rita, sandbox_a):
    page = signed_in(rita).get(f"/sandboxes/{sandbox_a.pk}/").content.decode()
    for name in ("alice", "bob", "rita"):
        assert f'data-username="{name}"' in page
    assert "Edit sandbox" not in page  # regulators do not configure


def test_another_sandbox_is_not_found(signed_in, charlie, sandbox_a):
    response = signed_in(charlie).get(f"/sandboxes/{sandbox_a.pk}/")
    assert response.status_code == 404
    assert b"Sandbox A" not in response.content


def test_experts_cannot_open_the_edit_form(signed_in, bob, sandbox_a):
    assert signed_in(bob).get(f"/sandboxes/{sandbox_a.pk}/edit/").status_code == 403


def test_operator_creates_a_sandbox_through_the_form(signed_in, alice):
    client = signed_in(alice)
    response = client.post("/sandboxes/new/", {
        "name": "Form pilot", "vertical": "finance", "status": "draft",
        "max_concurrent_runs": 3, "token_budget": 1000, "raters_per_item": 3})
    sandbox = Sandbox.objects.get(name="Form pilot")
    assert response.status_code == 302 and response["Location"] == f"/sandboxes/{sandbox.pk}/"
    assert sandbox.role_of(alice) == "operator"


def test_form_errors_name_the_field(signed_in, alice, sandbox_a):
    response = signed_in(alice).post(f"/sandboxes/{sandbox_a.pk}/edit/", {
        "name": "", "vertical": "medical", "status": "active", "max_concurrent_runs": 1,
        "token_budget": 10, "raters_per_item": 3,
        "plan_timeframe_start": "2027-01-02", "plan_timeframe_end": "2027-01-01"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "has-error" in page
    assert "This field is required." in page


def test_operator_adds_changes_and_removes_a_member(signed_in, alice, olga, sandbox_a):
    client = signed_in(alice)
    client.post(f"/sandboxes/{sandbox_a.pk}/members/add/", {"username": "olga", "role": "expert"})
    membership = sandbox_a.memberships.get(user=olga)
    assert membership.role == "expert"
    client.post(f"/sandboxes/{sandbox_a.pk}/members/{membership.pk}/role/", {"role": "regulator"})
    membership.refresh_from_db()
    assert membership.role == "regulator"
    client.post(f"/sandboxes/{sandbox_a.pk}/members/{membership.pk}/remove/")
    assert not sandbox_a.memberships.filter(user=olga).exists()


def test_member_forms_of_another_sandbox_are_not_found(signed_in, charlie, bob, sandbox_a):
    membership = sandbox_a.memberships.get(user=bob)
    client = signed_in(charlie)
    assert client.post(f"/sandboxes/{sandbox_a.pk}/members/{membership.pk}/remove/"
                       ).status_code == 404
    assert sandbox_a.memberships.filter(user=bob).exists()


def test_pages_can_be_read_in_chinese(client, alice, sandbox_a):
    client.post("/login/", {"username": "alice", "password": PASSWORD})
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    page = client.get("/").content.decode()
    assert "我的沙盒" in page
    assert 'lang="zh-hans"' in page


def test_pages_send_a_content_security_policy(client, db):
    response = client.get("/login/")
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "object-src 'none'" in policy


def test_anonymous_visitors_are_sent_to_sign_in(client, sandbox_a):
    response = client.get(f"/sandboxes/{sandbox_a.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
