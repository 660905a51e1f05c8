"""Every foundation endpoint × every role × own and other sandbox, with the expected status."""

import pytest

from sandbox.core import services
from tests.conftest import make_user
from tests.matrix import CONFIGURE, ROLES, VIEW, Endpoint, call, with_success

ENDPOINTS = [
    Endpoint("GET", "/api/v1/sandboxes/{a}/", VIEW),
    Endpoint("PATCH", "/api/v1/sandboxes/{a}/", CONFIGURE, body={"description": "changed"}),
    Endpoint("PUT", "/api/v1/sandboxes/{a}/", CONFIGURE,
             body={"name": "Renamed", "vertical": "medical", "status": "active"}),
    Endpoint("GET", "/api/v1/sandboxes/{a}/members/", VIEW),
    Endpoint("POST", "/api/v1/sandboxes/{a}/members/", with_success(CONFIGURE, 201),
             body={"username": "newcomer", "role": "expert"}),
    Endpoint("GET", "/api/v1/sandboxes/{a}/members/{expert_membership}/", VIEW),
    Endpoint("PATCH", "/api/v1/sandboxes/{a}/members/{expert_membership}/", CONFIGURE,
             body={"role": "regulator"}),
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/members/{expert_membership}/",
             with_success(CONFIGURE, 204)),
    # A's URL with B's member: never found, whoever asks.
    Endpoint("GET", "/api/v1/sandboxes/{a}/members/{b_membership}/",
             {"operator": 404, "expert": 404, "regulator": 404, "outsider": 404, "other": 404,
              "anonymous": 401}, label="A's URL, B's member"),
    # Members of A without the capability are refused before any lookup (403 for every id,
    # so nothing is revealed); the operator, who may delete, finds nothing.
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/members/{b_membership}/",
             {"operator": 404, "expert": 403, "regulator": 403, "outsider": 404, "other": 404,
              "anonymous": 401}, label="delete B's member through A's URL"),
]


@pytest.fixture
def people(alice, bob, rita, olga, charlie, sandbox_a, sandbox_b):
    make_user("newcomer")
    return {"operator": alice, "expert": bob, "regulator": rita, "outsider": olga,
            "other": charlie, "anonymous": None}


@pytest.fixture
def ids(sandbox_a, sandbox_b, bob, charlie):
    b_member = services.membership_add(sandbox=sandbox_b, actor=charlie, username="olga",
                                       role="expert")
    return {"a": sandbox_a.pk, "b": sandbox_b.pk,
            "expert_membership": sandbox_a.memberships.get(user=bob).pk,
            "b_membership": b_member.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_foundation_permission_matrix(api, people, ids, endpoint, role):
    response = call(api(people[role]), endpoint, ids)
    assert response.status_code == endpoint.expect[role], response.content


@pytest.mark.parametrize("role", ROLES)
def test_sandbox_list_shows_only_the_callers_sandboxes(api, people, ids, role):
    response = api(people[role]).get("/api/v1/sandboxes/")
    if role == "anonymous":
        assert response.status_code == 401
        return
    assert response.status_code == 200
    listed = {row["id"]: row["my_role"] for row in response.json()["results"]}
    expected = {
        "operator": {ids["a"]: "operator"},
        "expert": {ids["a"]: "expert"},
        "regulator": {ids["a"]: "regulator"},
        "outsider": {ids["b"]: "expert"},  # the fixture gave olga a role in B
        "other": {ids["b"]: "operator"},
    }[role]
    assert listed == expected


def test_a_true_outsider_sees_nothing(api, alice, sandbox_a, sandbox_b):
    stranger = make_user("stranger")
    client = api(stranger)
    assert client.get("/api/v1/sandboxes/").json()["results"] == []
    for sandbox in (sandbox_a, sandbox_b):
        assert client.get(f"/api/v1/sandboxes/{sandbox.pk}/").status_code == 404
        assert client.get(f"/api/v1/sandboxes/{sandbox.pk}/members/").status_code == 404
    assert client.get("/api/v1/sandboxes/999999/").status_code == 404


def test_not_found_is_identical_for_a_missing_and_a_foreign_sandbox(api, charlie, sandbox_a):
    client = api(charlie)
    foreign = client.get(f"/api/v1/sandboxes/{sandbox_a.pk}/members/")
    missing = client.get("/api/v1/sandboxes/999999/members/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
