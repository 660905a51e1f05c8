"""The LangChain adapter against a real OpenAI-compatible streaming endpoint over HTTP."""

import pytest

from domains import llm
from domains.llm import ModelCallError, astream_reply, count_tokens
from domains.models import DomainModel
from tests.llm.conftest import openai_model


async def collect(model, content):
    deltas = []

    async def on_delta(text):
        deltas.append(text)

    reply = await astream_reply(model, [{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": content}], on_delta,
                                retry_delays=(0.01, 0.01, 0.01))
    return reply, deltas


async def test_streams_deltas_and_counts_tokens(endpoint):
    reply, deltas = await collect(openai_model(endpoint), "Is the brake light on?")
    assert reply.text == "You asked: Is the brake light on?"
    assert "".join(deltas) == reply.text and len(deltas) == 7
    assert reply.completion_tokens == 7
    assert reply.prompt_tokens == 7  # as the endpoint reported it: 2 + 5 words
    assert reply.first_token_ms is not None and reply.latency_ms >= reply.first_token_ms


async def test_sends_the_key_from_the_named_environment_variable(endpoint, monkeypatch):
    monkeypatch.setenv("STUB_KEY", "sk-test-123")
    model = openai_model(endpoint, temperature=0.3, max_tokens=77)
    await collect(model, "hello")
    request = endpoint.requests[-1]
    assert endpoint.headers[-1]["authorization"] == "Bearer sk-test-123"
    assert request["model"] == "stub-1" and request["stream"] is True
    assert request["temperature"] == 0.3
    assert request.get("max_tokens", request.get("max_completion_tokens")) == 77


async def test_transient_errors_are_retried_before_any_text(endpoint):
    reply, deltas = await collect(openai_model(endpoint), "question [[fail-first:2]]")
    assert reply.attempts == 3
    assert reply.text.startswith("You asked: question")


async def test_persistent_errors_give_up_with_the_error(endpoint):
    with pytest.raises(ModelCallError) as caught:
        await collect(openai_model(endpoint), "again [[fail-first:9]]")
    assert caught.value.transient and caught.value.attempts == 4
    assert "503" in str(caught.value) or "overloaded" in str(caught.value)


async def test_a_failure_in_mid_stream_keeps_the_partial_text_and_is_not_retried(endpoint):
    before = len(endpoint.requests)
    with pytest.raises(ModelCallError) as caught:
        await collect(openai_model(endpoint), "tell me everything now [[drop-after:3]]")
    assert caught.value.partial == "You asked: tell"
    assert len(endpoint.requests) == before + 1


async def test_garbage_in_the_stream_fails_the_reply(endpoint):
    with pytest.raises(ModelCallError) as caught:
        await collect(openai_model(endpoint), "one two three [[garbage]]")
    assert not caught.value.transient


async def test_a_stalled_stream_times_out(endpoint):
    with pytest.raises(ModelCallError, match="timed out"):
        await collect(openai_model(endpoint, timeout_seconds=0.5), "slowly [[stall]]")


async def test_connection_report_gives_latency_or_the_error(endpoint):
    ok = await llm.test_connection(openai_model(endpoint))
    assert ok["ok"] is True and ok["latency_ms"] > 0 and "ready" in ok["sample"]
    dead = DomainModel(name="dead", provider="openai", base_url="http://127.0.0.1:9/v1",
                       model_name="x", timeout_seconds=3)
    bad = await llm.test_connection(dead)
    assert bad["ok"] is False and bad["latency_ms"] is None and "Connection" in bad["error"]


async def test_scripted_model_streams_its_rule_reply_deterministically():
    model = DomainModel(name="s", provider="scripted", timeout_seconds=5, script={
        "rules": [{"match": "chest pain", "reply": "Call 120 now. 立即拨打急救电话。"}],
        "default": "I can help with that."})
    reply, deltas = await collect(model, "I have CHEST PAIN")
    assert reply.text == "Call 120 now. 立即拨打急救电话。"
    assert deltas[:3] == ["Call", " 120", " now."]
    assert "立" in deltas and reply.completion_tokens == count_tokens(reply.text)
    reply, _ = await collect(model, "What is a normal pulse?")
    assert reply.text == "I can help with that."
