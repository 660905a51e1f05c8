"""Every registry, knowledge-base and search endpoint × every role × own and other sandbox."""

import pytest

from tests.domains.conftest import CHEST_PAIN
from tests.matrix import CONFIGURE, MONITOR, ROLES, VIEW, Endpoint, call, with_success

NOT_FOUND = {"operator": 404, "expert": 404, "regulator": 404, "outsider": 404, "other": 404,
             "anonymous": 401}
# Members of A without the capability are refused before any lookup; the operator finds nothing.
FOREIGN_WRITE = {"operator": 404, "expert": 403, "regulator": 403, "outsider": 404,
                 "other": 404, "anonymous": 401}
FOREIGN_MONITOR_READ = {"operator": 404, "expert": 403, "regulator": 404, "outsider": 404,
                        "other": 404, "anonymous": 401}

NEW_MODEL = {"name": "new-model", "version": "2", "provider": "ollama",
             "model_name": "qwen2.5:7b"}

ENDPOINTS = [
    Endpoint("GET", "/api/v1/sandboxes/{a}/models/", MONITOR),
    Endpoint("POST", "/api/v1/sandboxes/{a}/models/", with_success(CONFIGURE, 201),
             body=NEW_MODEL),
    Endpoint("GET", "/api/v1/sandboxes/{a}/models/{model_a}/", MONITOR),
    Endpoint("PATCH", "/api/v1/sandboxes/{a}/models/{model_a}/", CONFIGURE,
             body={"description": "changed"}),
    Endpoint("PUT", "/api/v1/sandboxes/{a}/models/{model_a}/", CONFIGURE,
             body={**NEW_MODEL, "name": "renamed"}),
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/models/{model_a}/", with_success(CONFIGURE, 204)),
    Endpoint("POST", "/api/v1/sandboxes/{a}/models/{model_a}/test-connection/", CONFIGURE),
    Endpoint("GET", "/api/v1/sandboxes/{a}/models/{model_b}/", FOREIGN_MONITOR_READ,
             label="A's URL, B's model"),
    Endpoint("PATCH", "/api/v1/sandboxes/{a}/models/{model_b}/", FOREIGN_WRITE,
             body={"description": "hijacked"}, label="patch B's model through A's URL"),
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/models/{model_b}/", FOREIGN_WRITE,
             label="delete B's model through A's URL"),
    Endpoint("POST", "/api/v1/sandboxes/{a}/models/{model_b}/test-connection/", FOREIGN_WRITE,
             label="test B's model through A's URL"),
    Endpoint("GET", "/api/v1/sandboxes/{a}/documents/", VIEW),
    Endpoint("POST", "/api/v1/sandboxes/{a}/documents/", with_success(CONFIGURE, 201),
             body={"title": "Chest pain", "content": CHEST_PAIN}),
    Endpoint("GET", "/api/v1/sandboxes/{a}/documents/{doc_a}/", VIEW),
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/documents/{doc_a}/", with_success(CONFIGURE, 204)),
    Endpoint("GET", "/api/v1/sandboxes/{a}/documents/{doc_b}/", NOT_FOUND,
             label="A's URL, B's document"),
    Endpoint("DELETE", "/api/v1/sandboxes/{a}/documents/{doc_b}/", FOREIGN_WRITE,
             label="delete B's document through A's URL"),
    Endpoint("GET", "/api/v1/sandboxes/{a}/search/?q=paracetamol", VIEW),
]


@pytest.fixture
def people(alice, bob, rita, olga, charlie, sandbox_a, sandbox_b):
    return {"operator": alice, "expert": bob, "regulator": rita, "outsider": olga,
            "other": charlie, "anonymous": None}


@pytest.fixture
def ids(sandbox_a, sandbox_b, model_a, model_b, doc_a, doc_b, stub_llm):
    return {"a": sandbox_a.pk, "b": sandbox_b.pk, "model_a": model_a.pk, "model_b": model_b.pk,
            "doc_a": doc_a.pk, "doc_b": doc_b.pk}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_domains_permission_matrix(api, people, ids, endpoint, role):
    response = call(api(people[role]), endpoint, ids)
    assert response.status_code == endpoint.expect[role], response.content


@pytest.mark.parametrize("path", ["models/", "models/{model_b}/", "documents/",
                                  "documents/{doc_b}/", "search/?q=paracetamol"])
def test_the_other_sandboxes_operator_gets_404_on_every_read(api, people, ids, path):
    """Charlie operates B; everything under A's URL is "not found" to him, B's ids included."""
    response = api(people["other"]).get(f"/api/v1/sandboxes/{ids['a']}/" + path.format(**ids))
    assert response.status_code == 404
    missing = api(people["other"]).get("/api/v1/sandboxes/999999/" + path.format(**ids))
    assert response.json() == missing.json()
