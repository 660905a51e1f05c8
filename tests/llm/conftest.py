"""The OpenAI-compatible endpoint the adapter tests stream from, and models pointing at it."""

import pytest

from domains.models import DomainModel
from tests.support.openai_server import OpenAIStub


@pytest.fixture(scope="module")
def endpoint():
    stub = OpenAIStub(delay=0.001).start()
    yield stub
    stub.stop()


def openai_model(endpoint, **fields):
    """An unsaved ``openai`` model of the stub; its key is read from ``STUB_KEY``."""
    return DomainModel(**{"name": "stub", "provider": "openai", "base_url": endpoint.base_url,
                          "model_name": "stub-1", "timeout_seconds": 10,
                          "api_key_env": "STUB_KEY", **fields})
