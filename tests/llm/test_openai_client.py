"""The lean OpenAI-compatible client under LangChain's ChatOpenAI, against a real endpoint."""

import aiohttp
import pytest
from langchain_core.messages import HumanMessage

from domains import llm
from domains.llm import ModelCallError, astream_reply
from domains.openai_client import ChatCompletions, EndpointError
from tests.llm.conftest import openai_model


async def test_the_platform_s_chat_models_stream_through_the_lean_client(endpoint):
    lc_model = llm._loop_chat_model(openai_model(endpoint))
    assert isinstance(lc_model.async_client, ChatCompletions)
    chunks = [chunk async for chunk in lc_model.astream([HumanMessage("Is it safe?")])]
    assert "".join(c.content for c in chunks) == "You asked: Is it safe?"
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert [(u["input_tokens"], u["output_tokens"]) for u in usage] == [(3, 5)]
    assert endpoint.requests[-1]["stream_options"] == {"include_usage": True}


async def test_no_key_sends_no_authorization_header(endpoint):
    await astream_reply(openai_model(endpoint, api_key_env=""),
                        [{"role": "user", "content": "hello"}])
    assert "authorization" not in endpoint.headers[-1]
    assert endpoint.headers[-1]["accept"] == "text/event-stream"


async def test_sse_comments_between_chunks_are_skipped(endpoint):
    reply = await astream_reply(openai_model(endpoint),
                                [{"role": "user", "content": "three words [[keepalive]]"}])
    assert reply.text == "You asked: three words"


async def test_an_error_object_in_the_stream_fails_the_reply_with_its_message(endpoint):
    with pytest.raises(ModelCallError) as caught:
        await astream_reply(openai_model(endpoint),
                            [{"role": "user", "content": "one two [[error-event]]"}],
                            retry_delays=(0.01,))
    assert "the model crashed" in str(caught.value)
    assert not caught.value.transient and caught.value.partial == "You"


async def test_an_http_error_keeps_the_status_and_the_endpoint_s_words(endpoint):
    async with aiohttp.ClientSession() as session:
        completions = ChatCompletions(session=session, base_url=endpoint.base_url, api_key="k",
                                      timeout=5)
        with pytest.raises(EndpointError) as caught:
            await completions.create(model="m", stream=True, messages=[
                {"role": "user", "content": "x [[fail-first:1]]"}])
    assert caught.value.status_code == 503
    assert str(caught.value) == "Error code: 503 - overloaded, try again"


async def test_a_request_without_streaming_returns_the_completion(endpoint):
    lc_model = llm._loop_chat_model(openai_model(endpoint, temperature=0.2))
    message = await lc_model.ainvoke([HumanMessage("Any recalls?")])
    assert message.content == "You asked: Any recalls?"
    assert message.usage_metadata["output_tokens"] == 4
    assert endpoint.requests[-1]["stream"] is False
    assert endpoint.requests[-1]["temperature"] == 0.2


async def test_extra_body_is_merged_into_the_request(endpoint):
    async with aiohttp.ClientSession() as session:
        completions = ChatCompletions(session=session, base_url=endpoint.base_url + "/",
                                      api_key="", timeout=5)
        async with await completions.create(
                model="m", stream=True, messages=[{"role": "user", "content": "hi"}],
                extra_body={"top_k": 5}) as stream:
            chunks = [chunk async for chunk in stream]
    assert endpoint.requests[-1]["top_k"] == 5
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["usage"]["completion_tokens"] == 3  # "You asked: hi"
