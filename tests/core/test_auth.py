"""Signing in: API tokens, sessions, sign-out, rate limiting."""

from rest_framework.test import APIClient

from tests.conftest import PASSWORD


def test_token_for_username_and_password_then_use_it(alice, sandbox_a):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                           format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    names = [s["name"] for s in client.get("/api/v1/sandboxes/").json()["results"]]
    assert names == ["Sandbox A"]


def test_wrong_password_gets_a_clear_400(alice):
    response = APIClient().post("/api/v1/auth/token/",
                                {"username": "alice", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "username and password" in response.json()["non_field_errors"][0]


def test_missing_fields_are_named(db):
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_revoking_the_token_signs_the_script_out(alice):
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                        format="json").json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/sandboxes/").status_code == 401


def test_repeated_failed_sign_ins_are_locked_out(client, alice, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"username": "alice", "password": "wrong"})
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert b"Too many sign-in attempts" in response.content
    assert "_auth_user_id" not in client.session


def test_token_endpoint_is_locked_after_repeated_failures(alice, settings):
    client = APIClient()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "alice", "password": "x"}, format="json")
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD},
                           format="json")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.json()["detail"]


def test_session_sign_in_and_sign_out(client, alice):
    response = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    client.post("/logout/")
    assert client.get("/").status_code == 302
