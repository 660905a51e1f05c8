"""The domain-model registry API: provider rules, secrets by name only, audit, test connection."""

import json

import pytest

from domains.models import DomainModel
from sandbox.audit.models import AuditEvent
from tests.domains.conftest import SCRIPT, saved_turn

OPENAI = {"name": "qwen-med", "version": "7b", "vendor": "Example", "provider": "openai",
          "base_url": "http://127.0.0.1:8001/v1", "model_name": "qwen2.5-7b-instruct",
          "temperature": 0.2, "max_tokens": 256, "timeout_seconds": 30,
          "api_key_env": "QWEN_MED_KEY", "rag_enabled": True, "rag_top_k": 3}


def url(sandbox, *rest):
    return f"/api/v1/sandboxes/{sandbox.pk}/models/" + "".join(f"{r}/" for r in rest)


def test_operator_registers_an_openai_compatible_model(api, alice, sandbox_a):
    response = api(alice).post(url(sandbox_a), OPENAI, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["api_key_env"] == "QWEN_MED_KEY"
    assert body["api_key_present"] is False
    model = DomainModel.objects.get(pk=body["id"])
    assert (model.sandbox, model.model_name, model.rag_top_k) == (sandbox_a,
                                                                   "qwen2.5-7b-instruct", 3)
    event = AuditEvent.objects.get(action="model.create", target_id=str(model.pk))
    assert event.sandbox_id == sandbox_a.pk and event.payload["base_url"] == OPENAI["base_url"]


def test_api_key_present_reads_the_environment_but_never_returns_the_key(
        api, alice, sandbox_a, monkeypatch):
    monkeypatch.setenv("QWEN_MED_KEY", "sk-live-secret-value-123")
    client = api(alice)
    created = client.post(url(sandbox_a), OPENAI, format="json")
    listed = client.get(url(sandbox_a))
    one = client.get(url(sandbox_a, created.json()["id"]))
    assert one.json()["api_key_present"] is True
    for response in (created, listed, one):
        assert b"sk-live-secret-value-123" not in response.content
    assert not AuditEvent.objects.filter(payload__icontains="sk-live").exists()
    assert "sk-live" not in json.dumps(list(AuditEvent.objects.values_list("payload",
                                                                           flat=True)))


@pytest.mark.parametrize("value", ["sk-live-secret-value-123", "MY KEY", "1ABC", "a.b"])
def test_a_key_pasted_into_api_key_env_is_refused_and_not_echoed(api, alice, sandbox_a, value):
    response = api(alice).post(url(sandbox_a), {**OPENAI, "api_key_env": value}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["api_key_env"]
    assert "name of an environment variable" in response.json()["api_key_env"][0]
    assert value.encode() not in response.content
    assert not DomainModel.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"provider": "openai", "model_name": "m"}, "base_url"),
    ({"provider": "openai", "base_url": "http://127.0.0.1:9/v1"}, "model_name"),
    ({"provider": "openai", "base_url": "ftp://h/v1", "model_name": "m"}, "base_url"),
    ({"provider": "ollama"}, "model_name"),
    ({"provider": "scripted"}, "script"),
    ({"provider": "ollama", "model_name": "m", "script": SCRIPT}, "script"),
    ({"provider": "ollama", "model_name": "m", "temperature": 3}, "temperature"),
    ({"provider": "ollama", "model_name": "m", "rag_top_k": 0}, "rag_top_k"),
    ({"provider": "ollama", "model_name": "m", "timeout_seconds": 0}, "timeout_seconds"),
    ({"provider": "ollama", "model_name": "m", "role": "boss"}, "role"),
    ({"provider": "magic", "model_name": "m"}, "provider"),
])
def test_each_provider_needs_its_fields_and_the_error_names_the_field(
        api, alice, sandbox_a, body, field):
    response = api(alice).post(url(sandbox_a), {"name": "m1", **body}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not DomainModel.objects.exists()
    assert not AuditEvent.objects.filter(action="model.create").exists()


@pytest.mark.parametrize("script, fragment", [
    ({"rules": [{"match": "(unclosed", "reply": "x"}], "default": "d"},
     "rules[0].match: invalid regular expression"),
    ({"rules": [{"match": "ok", "reply": "x"}, {"match": "[z-a]", "reply": "y"}],
      "default": "d"}, "rules[1].match"),
    ({"rules": [{"match": "ok"}], "default": "d"}, "rules[0].reply"),
    ({"rules": []}, "default"),
    ({"rules": "chest pain", "default": "d"}, "rules: must be a list"),
    ({"rules": [], "default": "d", "extra": 1}, "unknown key"),
    ({"rules": [], "default": "d", "token_delay": -1}, "token_delay"),
])
def test_a_scripted_models_script_is_checked_rule_by_rule(api, alice, sandbox_a, script,
                                                           fragment):
    response = api(alice).post(url(sandbox_a), {"name": "s", "provider": "scripted",
                                                "script": script}, format="json")
    assert response.status_code == 400
    assert any(fragment in message for message in response.json()["script"]), response.json()


def test_the_same_name_and_version_twice_is_a_clear_error(api, alice, model_a):
    response = api(alice).post(url(model_a.sandbox), {"name": model_a.name, "version": "1.0",
                                                      "provider": "scripted", "script": SCRIPT},
                               format="json")
    assert response.status_code == 400
    assert "version" in response.json()


def test_update_records_the_changes_and_switching_provider_drops_the_script(api, alice, model_a):
    response = api(alice).patch(url(model_a.sandbox, model_a.pk),
                                {"provider": "ollama", "model_name": "llama3.1:8b"},
                                format="json")
    assert response.status_code == 200, response.content
    model_a.refresh_from_db()
    assert (model_a.provider, model_a.script) == ("ollama", {})
    event = AuditEvent.objects.filter(action="model.update").get()
    assert event.payload["changes"]["provider"] == ["scripted", "ollama"]
    assert event.actor_name == "alice"


def test_delete_is_audited_and_a_model_with_runs_is_kept(api, alice, sandbox_a, model_a):
    unused = api(alice).post(url(sandbox_a), {"name": "spare", "provider": "ollama",
                                              "model_name": "m"}, format="json").json()
    assert api(alice).delete(url(sandbox_a, unused["id"])).status_code == 204
    assert AuditEvent.objects.filter(action="model.delete", target_id=str(unused["id"])).exists()

    saved_turn(model_a, user_message="hi", answer="hello")
    response = api(alice).delete(url(sandbox_a, model_a.pk))
    assert response.status_code == 409
    assert "deactivate" in response.json()["detail"]
    assert DomainModel.objects.filter(pk=model_a.pk).exists()
    assert not AuditEvent.objects.filter(action="model.delete",
                                         target_id=str(model_a.pk)).exists()


def test_experts_are_blind_to_models(api, bob, model_a):
    client = api(bob)
    assert client.get(url(model_a.sandbox)).status_code == 403
    response = client.get(url(model_a.sandbox, model_a.pk))
    assert response.status_code == 403
    assert model_a.name.encode() not in response.content


def test_test_connection_reports_the_adapters_result_and_is_audited(api, alice, model_a,
                                                                    stub_llm):
    response = api(alice).post(url(model_a.sandbox, model_a.pk, "test-connection"))
    assert response.status_code == 200
    assert response.json() == {"ok": True, "latency_ms": 12.5, "error": None,
                               "sample": "pong <b>"}
    assert stub_llm == [model_a.pk]
    event = AuditEvent.objects.get(action="model.test_connection")
    assert event.payload == {"ok": True, "latency_ms": 12.5, "error": ""}
    assert event.target_id == str(model_a.pk)


def test_regulators_read_models_but_cannot_test_or_change_them(api, rita, model_a, stub_llm):
    client = api(rita)
    assert client.get(url(model_a.sandbox, model_a.pk)).json()["name"] == "careful-med"
    assert client.post(url(model_a.sandbox, model_a.pk, "test-connection")).status_code == 403
    assert stub_llm == []
