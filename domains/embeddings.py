"""The one module that turns text into embedding vectors.

Every vector the platform stores or compares (knowledge chunks, model answers,
the ``similarity`` check) comes from :func:`get_embedder`. Two providers:

``hashing`` (the default)
    Offline and deterministic, nothing to download. The NFKC-normalised,
    case-folded text gives features: its words cut to their first five letters
    (a stemmer for any language written with spaces: ``children`` meets
    ``child``) and weighing ``sqrt(letters / 5)`` (longer words are rarer, so
    more telling); function words (``the``, ``can``, ``的`` ...) at a tenth;
    and for CJK scripts, which have no spaces, single characters and, at half
    weight, pairs of adjacent characters (no word segmenter needed). Each
    feature is hashed with a sign bit into one of :data:`DIMENSIONS` buckets,
    weighted by ``1 + log(count)``, and the vector is L2-normalised. The same
    text gives the same vector in every process and on every machine.

    Why (this is version 2; the first, ``hashing-ngram-v1``, hashed character
    2-, 3- and 4-grams): hashing into 384 buckets adds noise of about
    ``1/sqrt(384) = 0.05`` to every cosine, about what one shared word between
    a question and a chunk is worth, so every feature should be one that a
    related text can share. Frequent n-grams (``"e "``, ``"th"``) are in every
    text (unrelated texts scored about 0.2), and each word made a dozen
    n-grams, filling the buckets many times over: the vectors were dense and
    the HNSW index missed a third of the true nearest chunks
    (tests/bench/bench_knowledge.py). One feature per word keeps them sparse
    (an English chunk fills about a sixth of the buckets), which is what the
    index needs. On 35 questions about the demo documents the answering chunk
    comes first for 86% (v1: 66%); function words at full weight made it 67%
    (averaged over 12 hash seeds). Measured and left out, because each made
    the vectors denser and the index's recall@10 lower: word pairs (0.95 to
    0.86 on 20,000 synthetic chunks), character 4-grams of words (no better
    ranking either), five-letter prefixes added beside the whole words instead
    of replacing them (0.96 to 0.95; 0.95 to 0.91 at 100,000 chunks), and
    hashing a feature into several buckets (0.95 to 0.92).

``openai``
    Any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint (vLLM, Ollama's
    ``/v1``, llama.cpp's server, hosted vendors), over plain httpx. It asks for
    :data:`DIMENSIONS` dimensions; a longer vector that comes back is truncated
    to its first 384 values and L2-normalised again (right for Matryoshka
    models such as ``text-embedding-3-*``); a shorter one is an error.

Configuration (read when an embedder is built, never at import time): the
Django setting ``EMBEDDINGS`` (a dict), else the environment:

=======================  ============================  ==========================================
setting key              environment variable          meaning
=======================  ============================  ==========================================
``provider``             ``EMBEDDINGS_PROVIDER``       ``hashing`` (default) or ``openai``
``base_url``             ``EMBEDDINGS_BASE_URL``       e.g. ``http://127.0.0.1:11434/v1``
``model``                ``EMBEDDINGS_MODEL``          e.g. ``nomic-embed-text``
``api_key_env``          ``EMBEDDINGS_API_KEY_ENV``    NAME of the variable holding the key
``send_dimensions``      ``EMBEDDINGS_SEND_DIMENSIONS``  send ``dimensions`` (default on)
``timeout``              ``EMBEDDINGS_TIMEOUT``        seconds (default 30)
``batch_size``           ``EMBEDDINGS_BATCH_SIZE``     texts per request (default 64)
=======================  ============================  ==========================================

Vectors from different embedders live in different spaces: every stored
vector records :attr:`Embedder.name`, and searches compare only vectors of
the embedder configured now (see ``domains.knowledge``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import httpx
import numpy as np

DIMENSIONS = 384

HASHING = "hashing"
OPENAI = "openai"


class EmbeddingError(Exception):
    """The embedding provider failed or answered something unusable; the message says which."""


class Embedder(Protocol):
    name: str  # identifies the vector space: stored next to every vector
    # True when ``embed`` computes in this process without waiting on I/O, so that it may be
    # called inside an event loop; an endpoint's embedder waits on HTTP and must not be.
    local: bool

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector of :data:`DIMENSIONS` floats per text, in order."""
        ...


# --- the offline default --------------------------------------------------------------------

# Runs of CJK ideographs, kana and hangul (scripts written without spaces), and words of
# any other script (letters and digits; "_" and punctuation separate words).
_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKEN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")
_CJK_RUN = re.compile(f"[{_CJK}]")

# Weight of one occurrence of each kind of feature, before the sublinear term frequency.
WORD_WEIGHT = 1.0
CJK_CHAR_WEIGHT = 1.0
# A pair of adjacent CJK characters is a word or half of two; pairs sharpen matches (which
# characters go together) but each is shared by fewer texts than its characters.
CJK_PAIR_WEIGHT = 0.5
# Function words are in every text: at full weight they made a short chunk that shares
# "a", "can" and "how" with a question beat the long chunk that answers it. Not zero, so
# that a query made only of them still has a direction.
STOPWORD_WEIGHT = 0.1
STOPWORDS = frozenset("""
a about also am an and any are as at be been being both but by can could did do does
don for from had has have he her him his how i if in into is it its just may me might
more most must my no not of on only or other our own s same shall she should so some
such t than that the their them then there these they this those to too us very was we
were what when where which while who whom why will with would you your
""".split()) | frozenset("的了是在和与及或而之其等为对把被从向于个这那也就都要会")
# Other words are cut to their first five letters, so that the forms of a word meet
# (child and children, radiates and radiating): truncation, a stemmer for any language
# written with spaces. Numbers stay whole.
STEM_LENGTH = 5
# Longer words are rarer, hence more telling (the only hint of a word's frequency an
# embedder without a corpus has): a word weighs sqrt(letters / 5), at most sqrt(12 / 5),
# so that "paracetamol" in a question counts for more than "take".
LONG_WORD = 12


def _weighted_features(text: str) -> dict[str, float]:
    """The features of ``text`` with their weights, each named by its kind: ``w:`` words
    (stems), ``s:`` function words and characters, ``c:`` CJK characters and ``p:`` pairs
    of adjacent CJK characters (Chinese needs no word segmenter). A feature seen ``n``
    times weighs its kind's weight times ``1 + log(n)``."""
    normalised = unicodedata.normalize("NFKC", text or "").casefold()
    counts: Counter = Counter()
    weights: dict[str, float] = {}

    def add(feature: str, weight: float) -> None:
        counts[feature] += 1
        weights[feature] = max(weight, weights.get(feature, 0.0))

    for token in _TOKEN.findall(normalised):
        if _CJK_RUN.match(token):
            for ch in token:
                if ch in STOPWORDS:
                    add("s:" + ch, STOPWORD_WEIGHT)
                else:
                    add("c:" + ch, CJK_CHAR_WEIGHT)
            for i in range(len(token) - 1):
                add("p:" + token[i:i + 2], CJK_PAIR_WEIGHT)
        elif token in STOPWORDS:
            add("s:" + token, STOPWORD_WEIGHT)
        else:
            stem = token[:STEM_LENGTH] if token.isalpha() else token
            add("w:" + stem, WORD_WEIGHT * math.sqrt(min(len(token), LONG_WORD) / STEM_LENGTH))
    return {feature: weights[feature] * (1.0 + math.log(count))
            for feature, count in counts.items()}


def _bucket(feature: str) -> tuple[int, bool]:
    """A stable 64-bit hash of ``feature`` (the same in every process and on every machine)."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(),
                            "little")
    return digest, bool(digest >> 63)


def hashing_vector(text: str, dimensions: int = DIMENSIONS) -> np.ndarray:
    """The offline embedding of ``text`` as a float32 array (all zeros for blank text)."""
    vector = np.zeros(dimensions, dtype=np.float64)
    for feature, weight in _weighted_features(text).items():
        digest, positive = _bucket(feature)
        vector[digest % dimensions] += weight if positive else -weight
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32)


@dataclass(frozen=True)
class HashingEmbedder:
    """Words (and CJK characters and pairs) feature-hashed: offline, deterministic, any language."""

    dimensions: int = DIMENSIONS
    # A new name whenever the vectors change: stored vectors of an older version are
    # another space (domains.knowledge re-embeds them, migration 0004 once).
    name: str = "hashing-words-v2"
    local: ClassVar[bool] = True

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [hashing_vector(text, self.dimensions).tolist() for text in texts]


# --- OpenAI-compatible endpoints ------------------------------------------------------------

@dataclass(frozen=True)
class OpenAIEmbedder:
    """``POST {base_url}/embeddings`` of any OpenAI-compatible server.

    The API key is read from the environment variable named ``api_key_env`` at
    call time; it is never stored, logged or put in an error message.
    """

    base_url: str
    model: str
    api_key_env: str = ""
    send_dimensions: bool = True
    timeout: float = 30.0
    batch_size: int = 64
    dimensions: int = DIMENSIONS
    local: ClassVar[bool] = False  # an HTTP call

    @property
    def name(self) -> str:
        return f"openai:{self.model}@{self.base_url.rstrip('/')}"[:120]

    def _headers(self) -> dict:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        return headers

    def _fit(self, values) -> list[float]:
        if not isinstance(values, list) or not values:
            raise EmbeddingError("the embedding endpoint returned an item without a vector")
        if len(values) < self.dimensions:
            raise EmbeddingError(
                f"the embedding model returns {len(values)} dimensions; at least "
                f"{self.dimensions} are needed (choose another model)")
        vector = np.asarray(values[: self.dimensions], dtype=np.float32)
        norm = float(np.linalg.norm(vector))
        if not math.isfinite(norm) or norm == 0:
            raise EmbeddingError("the embedding endpoint returned a zero or non-finite vector")
        return (vector / norm).tolist()

    def _post(self, client: httpx.Client, batch: list[str]) -> list[list[float]]:
        body = {"model": self.model, "input": batch, "encoding_format": "float"}
        if self.send_dimensions:
            body["dimensions"] = self.dimensions
        url = self.base_url.rstrip("/") + "/embeddings"
        try:
            response = client.post(url, json=body, headers=self._headers())
        except httpx.HTTPError as exc:
            raise EmbeddingError(f"embedding endpoint {url} unreachable: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise EmbeddingError(f"embedding endpoint {url} answered HTTP "
                                 f"{response.status_code}: {response.text[:300]}")
        try:
            data = sorted(response.json()["data"], key=lambda item: item.get("index", 0))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EmbeddingError(f"embedding endpoint {url} answered something that is not "
                                 "an OpenAI embeddings response") from exc
        if len(data) != len(batch):
            raise EmbeddingError(f"embedding endpoint {url} returned {len(data)} vectors "
                                 f"for {len(batch)} texts")
        return [self._fit(item.get("embedding")) for item in data]

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        texts = [text if text.strip() else " " for text in texts]
        vectors: list[list[float]] = []
        with httpx.Client(timeout=self.timeout) as client:
            for start in range(0, len(texts), self.batch_size):
                vectors.extend(self._post(client, texts[start:start + self.batch_size]))
        return vectors


# --- configuration --------------------------------------------------------------------------

def _config() -> dict:
    from django.conf import settings

    configured = getattr(settings, "EMBEDDINGS", None)
    if configured:
        return dict(configured)
    env = os.environ
    return {
        "provider": env.get("EMBEDDINGS_PROVIDER", HASHING),
        "base_url": env.get("EMBEDDINGS_BASE_URL", ""),
        "model": env.get("EMBEDDINGS_MODEL", ""),
        "api_key_env": env.get("EMBEDDINGS_API_KEY_ENV", ""),
        "send_dimensions": env.get("EMBEDDINGS_SEND_DIMENSIONS", "1").lower()
        not in {"0", "false", "no", "off"},
        "timeout": float(env.get("EMBEDDINGS_TIMEOUT", "30")),
        "batch_size": int(env.get("EMBEDDINGS_BATCH_SIZE", "64")),
    }


def get_embedder(sandbox=None) -> Embedder:
    """The embedder configured for the platform (``sandbox`` is accepted for per-sandbox
    configuration later; today every sandbox uses the platform's embedder).

    Raises :class:`EmbeddingError` naming the missing setting when the
    configuration is incomplete.
    """
    config = _config()
    provider = config.get("provider") or HASHING
    if provider == HASHING:
        return HashingEmbedder()
    if provider == OPENAI:
        missing = [key for key in ("base_url", "model") if not config.get(key)]
        if missing:
            raise EmbeddingError("EMBEDDINGS_PROVIDER is openai but "
                                 + ", ".join(f"EMBEDDINGS_{k.upper()}" for k in missing)
                                 + " is not set")
        return OpenAIEmbedder(base_url=config["base_url"], model=config["model"],
                              api_key_env=config.get("api_key_env", ""),
                              send_dimensions=bool(config.get("send_dimensions", True)),
                              timeout=float(config.get("timeout", 30)),
                              batch_size=int(config.get("batch_size", 64)))
    raise EmbeddingError(f"unknown embeddings provider {provider!r}: use hashing or openai")


def embed_texts(texts: Sequence[str], *, sandbox=None) -> list[list[float]]:
    """Embed ``texts`` with the configured embedder (the ``ctx.embed`` of the checks)."""
    return get_embedder(sandbox).embed(list(texts))


def embed_query(text: str, *, sandbox=None) -> tuple[str, list[float]]:
    """The configured embedder's name and the vector of one search query."""
    embedder = get_embedder(sandbox)
    return embedder.name, embedder.embed([text])[0]
