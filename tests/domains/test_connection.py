"""“Test connection” through the real LangChain adapter against a local OpenAI-compatible server."""

from domains import services
from sandbox.audit.models import AuditEvent
from tests.conftest import free_port
from tests.domains.http_stub import ChatServer


def endpoint_model(sandbox, actor, base_url, **extra):
    return services.domain_model_create(sandbox=sandbox, actor=actor, name="local", version="1",
                                        provider="openai", base_url=base_url,
                                        model_name="tiny-chat", **extra)


def test_a_reachable_endpoint_reports_latency_and_a_sample(api, alice, sandbox_a, monkeypatch):
    monkeypatch.setenv("LOCAL_CHAT_KEY", "sk-local-test-key")
    with ChatServer(reply="ready, <b>really</b>") as server:
        model = endpoint_model(sandbox_a, alice, server.url, api_key_env="LOCAL_CHAT_KEY")
        response = api(alice).post(
            f"/api/v1/sandboxes/{sandbox_a.pk}/models/{model.pk}/test-connection/")
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is True and body["error"] is None
    assert body["sample"].strip() == "ready, <b>really</b>"
    assert 0 < body["latency_ms"] < 10_000
    assert server.requests[0]["path"] == "/v1/chat/completions"
    assert server.requests[0]["body"]["model"] == "tiny-chat"
    assert server.requests[0]["auth"] == "Bearer sk-local-test-key"
    event = AuditEvent.objects.get(action="model.test_connection")
    assert event.payload["ok"] is True
    assert b"sk-local-test-key" not in response.content
    assert "sk-local-test-key" not in str(event.payload)


def test_an_unreachable_endpoint_reports_the_error(api, alice, sandbox_a):
    model = endpoint_model(sandbox_a, alice, f"http://127.0.0.1:{free_port()}/v1",
                           timeout_seconds=5)
    response = api(alice).post(
        f"/api/v1/sandboxes/{sandbox_a.pk}/models/{model.pk}/test-connection/")
    body = response.json()
    assert response.status_code == 200
    assert body["ok"] is False and body["latency_ms"] is None
    assert "Connection" in body["error"]
    event = AuditEvent.objects.get(action="model.test_connection")
    assert event.payload["ok"] is False and "Connection" in event.payload["error"]


def test_a_scripted_model_answers_offline(api, alice, model_a):
    response = api(alice).post(
        f"/api/v1/sandboxes/{model_a.sandbox_id}/models/{model_a.pk}/test-connection/")
    assert response.json()["ok"] is True
    assert response.json()["sample"] == "Please ask a clinician."
