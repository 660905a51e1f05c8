"""The one module that turns text into embedding vectors.

Every vector the platform stores or compares (knowledge chunks, model answers,
the ``similarity`` check) comes from :func:`get_embedder`. Two providers:

``hashing`` (the default)
    Offline and deterministic, nothing to download: character n-grams of the
    NFKC-normalised, case-folded text (2-, 3- and 4-grams, plus single
    characters of CJK scripts, so Chinese text needs no word segmenter) are
    feature-hashed with a sign bit into :data:`DIMENSIONS` buckets, weighted by
    ``1 + log(count)``, and the vector is L2-normalised. The same text gives the
    same vector in every process and on every machine.

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

import math
import os
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
import numpy as np

DIMENSIONS = 384

HASHING = "hashing"
OPENAI = "openai"


class EmbeddingError(Exception):
    """The embedding provider failed or answered something unusable; the message says which."""


class Embedder(Protocol):
    name: str  # identifies the vector space: stored next to every vector

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One L2-normalised vector of :data:`DIMENSIONS` floats per text, in order."""
        ...


# --- the offline default --------------------------------------------------------------------

_NGRAM_SIZES = (2, 3, 4)
# Odd 64-bit multipliers for the polynomial n-gram hash and the final mix (splitmix64).
_POLY = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def _is_cjk(codepoints: np.ndarray) -> np.ndarray:
    """Mask of CJK ideographs, kana and hangul: scripts written without spaces."""
    return (((codepoints >= 0x2E80) & (codepoints <= 0x9FFF))
            | ((codepoints >= 0xAC00) & (codepoints <= 0xD7AF))
            | ((codepoints >= 0xF900) & (codepoints <= 0xFAFF))
            | ((codepoints >= 0x20000) & (codepoints <= 0x2FA1F)))


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return " " + " ".join(text.split()) + " "


def _mix(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint64(30))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(27))
    h = h * _MIX2
    return h ^ (h >> np.uint64(31))


def hashing_vector(text: str, dimensions: int = DIMENSIONS) -> np.ndarray:
    """The offline embedding of ``text`` as a float32 array (all zeros for blank text)."""
    normalised = _normalise(text)
    vector = np.zeros(dimensions, dtype=np.float32)
    if not normalised.strip():
        return vector
    cps = np.frombuffer(normalised.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    features = [_mix(cps[_is_cjk(cps)] + np.uint64(1 << 40))]
    with np.errstate(over="ignore"):
        for n in _NGRAM_SIZES:
            if len(cps) < n:
                continue
            h = np.full(len(cps) - n + 1, np.uint64(n), dtype=np.uint64)
            for i in range(n):
                h = h * _POLY + cps[i:len(cps) - n + 1 + i]
            features.append(_mix(h))
        hashes = np.concatenate(features)
    unique, counts = np.unique(hashes, return_counts=True)
    buckets = (unique % np.uint64(dimensions)).astype(np.int64)
    signs = np.where((unique >> np.uint64(40)) & np.uint64(1), 1.0, -1.0)
    np.add.at(vector, buckets, (signs * (1.0 + np.log(counts))).astype(np.float32))
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


@dataclass(frozen=True)
class HashingEmbedder:
    """Character n-gram feature hashing: offline, deterministic, any language."""

    dimensions: int = DIMENSIONS
    name: str = "hashing-ngram-v1"

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
