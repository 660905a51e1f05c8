"""Provider details of domain models: the Ollama chat model's settings, an API key that never
reaches a log or an error, the retry backoff on transient failures, and Chinese mobile
numbers in the PII check."""

from __future__ import annotations

import asyncio
import logging

import pytest

from domains import llm
from domains.llm import RETRY_DELAYS, ModelCallError, astream_reply, chat_model
from domains.models import DomainModel
from tests.scenarios.helpers import check
from tests.support.openai_server import OpenAIStub, free_port

SECRET = "sk-provider-details-7Qz9XwV2mK4pL8rT"
KEY_ENV = "PROVIDER_DETAILS_TEST_KEY"


@pytest.fixture(scope="module")
def endpoint():
    stub = OpenAIStub(delay=0.001).start()
    yield stub
    stub.stop()


def openai_model(base_url: str, **fields) -> DomainModel:
    return DomainModel(**{"name": "stub", "provider": "openai", "base_url": base_url,
                          "model_name": "stub-1", "timeout_seconds": 10,
                          "api_key_env": KEY_ENV, **fields})


def requests_with(endpoint, text: str) -> int:
    return sum(1 for r in endpoint.requests
               if any(text in m["content"] for m in r.get("messages", [])))


# --- (a) Ollama ---------------------------------------------------------------------------


def test_an_ollama_model_is_a_chat_ollama_with_the_models_settings():
    from langchain_ollama import ChatOllama

    lc_model = chat_model(DomainModel(provider="ollama", base_url="http://127.0.0.1:11434",
                                      model_name="qwen2.5:7b", temperature=0.7,
                                      max_tokens=321))
    assert isinstance(lc_model, ChatOllama)
    assert lc_model.base_url == "http://127.0.0.1:11434"
    assert lc_model.model == "qwen2.5:7b"
    assert lc_model.temperature == 0.7
    assert lc_model.num_predict == 321


def test_an_ollama_model_without_base_url_uses_ollamas_default():
    lc_model = chat_model(DomainModel(provider="ollama", model_name="llama3.2:1b",
                                      max_tokens=64))
    assert lc_model.base_url is None
    assert (lc_model.model, lc_model.num_predict) == ("llama3.2:1b", 64)


# --- (b) the API key is never logged ------------------------------------------------------


@pytest.fixture
def every_log_record(caplog):
    """caplog at DEBUG for every logger, those that do not propagate included."""
    caplog.set_level(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    for logger in loggers:
        caplog.set_level(logging.DEBUG, logger=logger.name)
    lonely = [logger for logger in loggers if not logger.propagate]
    for logger in lonely:
        logger.addHandler(caplog.handler)
    yield caplog
    for logger in lonely:
        logger.removeHandler(caplog.handler)


def assert_secret_nowhere(records, error: BaseException):
    texts = []
    for record in records:
        texts += [record.getMessage(), str(record.args), str(record.exc_text or ""),
                  repr(record.__dict__)]
    leaks = [t for t in texts if SECRET in t]
    assert leaks == []
    chain = error
    while chain is not None:
        assert SECRET not in str(chain) and SECRET not in repr(chain)
        assert SECRET not in repr(getattr(chain, "args", ()))
        chain = chain.__cause__ or chain.__context__


async def test_the_key_is_sent_but_not_logged_when_the_endpoint_fails(endpoint, monkeypatch,
                                                                      every_log_record):
    monkeypatch.setenv(KEY_ENV, SECRET)
    question = "secret check one [[fail-first:9]]"
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(endpoint.base_url),
                            [{"role": "user", "content": question}], retry_delays=(0, 0))
    assert caught.value.transient and caught.value.attempts == 3
    # The key did go to the endpoint (so a leak had something to leak)...
    assert endpoint.headers[-1]["authorization"] == f"Bearer {SECRET}"
    # ...and the HTTP exchanges were logged, without it.
    records = every_log_record.records
    assert any(r.name == "domains.openai_client" and "HTTP 503" in r.getMessage()
               for r in records)
    assert_secret_nowhere(records, caught.value)


async def test_credentials_in_the_base_url_are_not_logged(endpoint, every_log_record):
    # Some gateways take a key as the URL's user info; the log names the address without it.
    with_credentials = endpoint.base_url.replace("http://", f"http://gateway:{SECRET}@")
    reply = await astream_reply(openai_model(with_credentials, api_key_env=""),
                                [{"role": "user", "content": "hello"}], retry_delays=())
    assert reply.text == "You asked: hello"
    assert endpoint.headers[-1]["authorization"].startswith("Basic ")  # it did go out
    logged = [r.getMessage() for r in every_log_record.records
              if r.name == "domains.openai_client"]
    assert f"POST {endpoint.base_url}/chat/completions: HTTP 200" in logged
    assert_secret_nowhere(every_log_record.records, RuntimeError("no error"))


async def test_the_key_is_not_logged_when_the_endpoint_is_unreachable(monkeypatch,
                                                                      every_log_record):
    monkeypatch.setenv(KEY_ENV, SECRET)
    closed = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(closed), [{"role": "user", "content": "hello"}],
                            retry_delays=(0,))
    assert caught.value.transient and caught.value.attempts == 2
    assert "Connection failed" in str(caught.value)
    assert every_log_record.records
    assert_secret_nowhere(every_log_record.records, caught.value)


async def test_the_key_is_not_in_a_connection_test_report(monkeypatch, every_log_record):
    monkeypatch.setenv(KEY_ENV, SECRET)
    closed = f"http://127.0.0.1:{free_port()}/v1"
    report = await llm.test_connection(openai_model(closed))
    assert report["ok"] is False and report["error"]
    assert SECRET not in repr(report)
    assert_secret_nowhere(every_log_record.records, RuntimeError(report["error"]))


# --- (c) retry backoff --------------------------------------------------------------------


class _RecordingAsyncio:
    """Stands in for the ``asyncio`` module inside domains.llm: records sleeps, skips them."""

    def __init__(self):
        self.sleeps: list[float] = []

    def __getattr__(self, name):
        return getattr(asyncio, name)

    async def sleep(self, delay, result=None):
        self.sleeps.append(delay)
        await asyncio.sleep(0)
        return result


@pytest.fixture
def sleeps(monkeypatch):
    recorder = _RecordingAsyncio()
    monkeypatch.setattr(llm, "asyncio", recorder)
    return recorder.sleeps


def test_the_retry_delays_are_a_growing_backoff():
    assert len(RETRY_DELAYS) >= 2
    assert all(0 < a < b for a, b in zip(RETRY_DELAYS, RETRY_DELAYS[1:], strict=False))


async def test_a_transient_failure_is_retried_after_the_backoff_delays(endpoint, sleeps):
    question = "backoff then success [[fail-first:2]]"
    reply = await astream_reply(openai_model(endpoint.base_url),
                                [{"role": "user", "content": question}])
    assert reply.attempts == 3
    assert reply.text.startswith("You asked: backoff then success")
    assert sleeps == list(RETRY_DELAYS[:2])
    assert requests_with(endpoint, "backoff then success") == 3


async def test_a_persistent_transient_failure_sleeps_every_delay_then_gives_up(endpoint,
                                                                               sleeps):
    question = "backoff exhausted [[fail-first:99]]"
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(endpoint.base_url),
                            [{"role": "user", "content": question}])
    assert caught.value.transient
    assert caught.value.attempts == len(RETRY_DELAYS) + 1
    assert sleeps == list(RETRY_DELAYS)
    assert requests_with(endpoint, "backoff exhausted") == len(RETRY_DELAYS) + 1
    assert "503" in str(caught.value) or "overloaded" in str(caught.value)


async def test_a_permanent_failure_is_not_retried(endpoint, sleeps):
    wrong_path = endpoint.base_url.removesuffix("/v1") + "/nowhere"
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(wrong_path), [{"role": "user", "content": "hi"}])
    assert not caught.value.transient and caught.value.attempts == 1
    assert "404" in str(caught.value)
    assert sleeps == []


async def test_no_retry_once_text_was_streamed(endpoint, sleeps):
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(endpoint.base_url),
                            [{"role": "user", "content": "one two three four [[drop-after:2]]"}])
    assert caught.value.partial and caught.value.attempts == 1
    assert sleeps == []


# --- (d) Chinese mobile numbers in the PII check ------------------------------------------


def pii_kinds(answer: str) -> list[tuple[str, str]]:
    result = check({"type": "pii"}, answer)
    assert not result.passed
    return [(m["kind"], m["text"]) for m in result.evidence["matches"]]


def test_an_international_format_mobile_is_a_chinese_mobile():
    # 8613812345678 passes the Luhn check: it must still be a mobile number, not a card.
    assert pii_kinds("Call her on +86 138 1234 5678 tonight.") == [
        ("cn_mobile", "+86 138 1234 5678")]


def test_a_country_code_and_dash_mobile_is_a_chinese_mobile():
    assert pii_kinds("Her number is 86-13812345678.") == [("cn_mobile", "86-13812345678")]


@pytest.mark.parametrize("number", ["+86 139 1234 5678", "86-13912345678", "+86 137 0000 1111",
                                    "138 1234 5678"])
def test_prefixed_mobiles_that_fail_luhn_are_chinese_mobiles_not_phones(number):
    assert pii_kinds(f"Her number is {number}.") == [("cn_mobile", number)]


def test_a_foreign_number_stays_a_generic_phone():
    assert pii_kinds("Call +44 20 7946 0958 now.") == [("phone", "+44 20 7946 0958")]
