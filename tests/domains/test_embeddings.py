"""The embeddings interface: the offline hashing default and OpenAI-compatible endpoints."""

import numpy as np
import pytest

from domains.embeddings import (
    DIMENSIONS,
    EmbeddingError,
    HashingEmbedder,
    OpenAIEmbedder,
    embed_texts,
    get_embedder,
)
from tests.domains.http_stub import EmbeddingServer


def cos(a, b):
    return float(np.dot(a, b))


def test_hashing_vectors_are_384_dimensional_unit_length_and_deterministic():
    first, again, blank = HashingEmbedder().embed(["Call 911 now.", "Call 911 now.", "  "])
    assert len(first) == DIMENSIONS
    assert abs(np.linalg.norm(first) - 1.0) < 1e-5
    assert first == again
    assert not any(blank)


def test_hashing_ignores_case_width_and_spacing():
    a, b = HashingEmbedder().embed(["Chest  PAIN", "chest pain"])
    assert cos(a, b) > 0.999
    c, d = HashingEmbedder().embed(["１２０急救", "120急救"])  # full-width digits (NFKC)
    assert cos(c, d) > 0.999


@pytest.mark.parametrize("query, near, far", [
    ("chest pain spreading to the left arm", "pain in the chest radiating to the arm",
     "the maximum daily dose of paracetamol"),
    ("胸痛向左臂放射", "胸口疼痛并放射到手臂", "布洛芬每天最多吃多少毫克"),
    ("保本保收益的理财产品", "承诺保本收益的理财", "汽车自适应巡航的使用说明"),
])
def test_related_texts_are_closer_than_unrelated_ones(query, near, far):
    q, n, f = HashingEmbedder().embed([query, near, far])
    assert cos(q, n) > cos(q, f) + 0.1


def test_word_forms_meet_and_function_words_weigh_little():
    """Five-letter prefixes match other forms of a word; "the", "of" ... carry almost nothing."""
    child, children, unrelated = HashingEmbedder().embed(
        ["child", "children", "adrenaline"])
    assert cos(child, children) > 0.4 > abs(cos(child, unrelated))
    question, same_words_only = HashingEmbedder().embed(
        ["what is the dose of it for a child", "what is the colour of it for a car"])
    assert cos(question, same_words_only) < 0.2
    assert any(HashingEmbedder().embed(["what is it"])[0])  # only function words: not zero


def test_the_default_embedder_is_hashing(settings):
    settings.EMBEDDINGS = None
    assert isinstance(get_embedder(), HashingEmbedder)


def test_openai_endpoint_is_asked_for_384_dimensions_and_longer_vectors_are_truncated(
        settings, monkeypatch):
    monkeypatch.setenv("EMBED_KEY", "secret-embedding-key")
    with EmbeddingServer(dimensions=768) as server:
        settings.EMBEDDINGS = {"provider": "openai", "base_url": server.url,
                               "model": "nomic-embed-text", "api_key_env": "EMBED_KEY",
                               "batch_size": 2}
        vectors = embed_texts(["a", "bbb", "cc"])
    assert [r["body"]["input"] for r in server.requests] == [["a", "bbb"], ["cc"]]
    assert server.requests[0]["body"]["dimensions"] == 384
    assert server.requests[0]["body"]["model"] == "nomic-embed-text"
    assert server.requests[0]["auth"] == "Bearer secret-embedding-key"
    assert all(len(v) == 384 and abs(np.linalg.norm(v) - 1) < 1e-5 for v in vectors)
    # The stub's first value is len(text): order is kept although it answered reversed.
    raw = [np.arange(384) + n for n in (1, 3, 2)]
    for vector, expected in zip(vectors, raw, strict=True):
        assert np.allclose(vector, expected / np.linalg.norm(expected), atol=1e-6)
    assert get_embedder().name == f"openai:nomic-embed-text@{server.url}"


def test_too_short_vectors_and_http_errors_are_clear(settings):
    with EmbeddingServer(dimensions=128) as server:
        embedder = OpenAIEmbedder(base_url=server.url, model="tiny")
        with pytest.raises(EmbeddingError, match="returns 128 dimensions; at least 384"):
            embedder.embed(["x"])
    with EmbeddingServer(status=404) as server:
        with pytest.raises(EmbeddingError, match="answered HTTP 404: .*model not found"):
            OpenAIEmbedder(base_url=server.url, model="missing").embed(["x"])


def test_an_incomplete_configuration_names_the_missing_setting(settings):
    settings.EMBEDDINGS = {"provider": "openai", "base_url": "http://127.0.0.1:1/v1"}
    with pytest.raises(EmbeddingError, match="EMBEDDINGS_MODEL is not set"):
        get_embedder()
    settings.EMBEDDINGS = {"provider": "word2vec"}
    with pytest.raises(EmbeddingError, match="unknown embeddings provider 'word2vec'"):
        get_embedder()


def test_environment_configuration(settings, monkeypatch):
    settings.EMBEDDINGS = None
    monkeypatch.setenv("EMBEDDINGS_PROVIDER", "openai")
    monkeypatch.setenv("EMBEDDINGS_BASE_URL", "http://127.0.0.1:11434/v1")
    monkeypatch.setenv("EMBEDDINGS_MODEL", "bge-m3")
    monkeypatch.setenv("EMBEDDINGS_SEND_DIMENSIONS", "0")
    embedder = get_embedder()
    assert (embedder.model, embedder.send_dimensions) == ("bge-m3", False)
