"""Operators create and edit sandboxes and members through the API."""

from sandbox.core.models import Membership, Sandbox

PLAN = {
    "name": "Braking assistant pilot", "vertical": "automotive", "description": "ADAS Q&A",
    "plan_objectives": "Refuse to defeat safety systems", "plan_timeframe_start": "2026-12-01",
    "plan_timeframe_end": "2027-03-01", "plan_methodology": "Scripted scenarios",
    "plan_conditions": "Synthetic data only", "max_concurrent_runs": 2, "token_budget": 50000,
}


def test_operator_creates_a_sandbox_and_becomes_its_operator(api, alice):
    response = api(alice).post("/api/v1/sandboxes/", PLAN, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["my_role"] == "operator"
    assert body["status"] == "draft"
    assert body["plan_timeframe_end"] == "2027-03-01"
    assert Membership.objects.get(sandbox_id=body["id"]).user == alice


def test_creating_needs_the_platform_permission(api, bob):
    response = api(bob).post("/api/v1/sandboxes/", PLAN, format="json")
    assert response.status_code == 403
    assert not Sandbox.objects.filter(name=PLAN["name"]).exists()


def test_bad_vertical_and_reversed_timeframe_are_named(api, alice):
    response = api(alice).post("/api/v1/sandboxes/", {
        **PLAN, "vertical": "aviation", "plan_timeframe_end": "2026-01-01"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "vertical" in body
    response = api(alice).post("/api/v1/sandboxes/", {**PLAN, "plan_timeframe_end": "2026-01-01"},
                               format="json")
    assert response.status_code == 400
    assert "plan_timeframe_end" in response.json()


def test_operator_cannot_suspend_a_sandbox(api, alice, sandbox_a):
    response = api(alice).patch(f"/api/v1/sandboxes/{sandbox_a.pk}/", {"status": "suspended"},
                                format="json")
    assert response.status_code == 400
    assert "regulator" in response.json()["status"][0]
    sandbox_a.refresh_from_db()
    assert sandbox_a.status == "active"


def test_operator_cannot_lift_a_suspension(api, alice, sandbox_a):
    Sandbox.objects.filter(pk=sandbox_a.pk).update(status="suspended")
    response = api(alice).patch(f"/api/v1/sandboxes/{sandbox_a.pk}/", {"status": "active"},
                                format="json")
    assert response.status_code == 403
    assert Sandbox.objects.get(pk=sandbox_a.pk).status == "suspended"


def test_members_are_listed_with_roles(api, bob, sandbox_a):
    rows = api(bob).get(f"/api/v1/sandboxes/{sandbox_a.pk}/members/").json()["results"]
    assert {(r["username"], r["role"]) for r in rows} == {
        ("alice", "operator"), ("bob", "expert"), ("rita", "regulator")}


def test_members_filter_by_role(api, alice, sandbox_a):
    rows = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/members/?role=expert").json()
    assert [r["username"] for r in rows["results"]] == ["bob"]


def test_adding_an_unknown_user_or_a_second_role_is_refused_clearly(api, alice, sandbox_a):
    client = api(alice)
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/members/"
    response = client.post(url, {"username": "ghost", "role": "expert"}, format="json")
    assert response.status_code == 400
    assert "ghost" in response.json()["username"][0]
    response = client.post(url, {"username": "bob", "role": "regulator"}, format="json")
    assert response.status_code == 400
    assert "already holds a role" in response.json()["username"][0]
    response = client.post(url, {"username": "bob", "role": "king"}, format="json")
    assert response.status_code == 400
    assert "role" in response.json()


def test_the_last_operator_cannot_be_removed(api, alice, sandbox_a):
    membership = sandbox_a.memberships.get(user=alice)
    response = api(alice).delete(f"/api/v1/sandboxes/{sandbox_a.pk}/members/{membership.pk}/")
    assert response.status_code == 400
    assert "at least one operator" in response.json()["role"][0]


def test_list_filters_by_vertical_and_paginates(api, alice, sandbox_a):
    client = api(alice)
    client.post("/api/v1/sandboxes/", PLAN, format="json")
    body = client.get("/api/v1/sandboxes/?vertical=automotive").json()
    assert [s["vertical"] for s in body["results"]] == ["automotive"]
    body = client.get("/api/v1/sandboxes/?limit=1").json()
    assert body["count"] == 2 and len(body["results"]) == 1 and body["next"]


def test_openapi_schema_and_docs_are_served(client, db):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    assert "openapi: 3" in text
    assert "/api/v1/sandboxes/{sandbox_pk}/members/" in text
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    assert b"cdn.jsdelivr" not in docs.content
