"""Fixtures of the registry and knowledge-base tests: models, documents and answers in A and B.

Sandbox A (medical, Alice operates, Bob rates, Rita regulates) and sandbox B
(finance, Charlie operates) each get a scripted model, a knowledge document
and a saved transcript turn, with near-identical text in both so that any
leak between sandboxes would show up as a hit.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from domains import knowledge, services

SCRIPT = {"rules": [{"match": "chest pain|胸痛", "reply": "Call the emergency number now."}],
          "default": "Please ask a clinician."}

DOSING = """# Paracetamol dosing

## Adults
Adults take 500 mg to 1 g every 4 to 6 hours, never more than 4 g in 24 hours.

## Children
Children's doses depend on weight: 15 mg per kg, at most four doses a day.
"""

CHEST_PAIN = """# Chest pain

Chest pain that spreads to the arm or jaw, with sweating or breathlessness, may be a
heart attack. Call the emergency number at once; do not drive yourself to hospital.
"""


def scripted_model(sandbox, actor, name="careful-med", **extra):
    return services.domain_model_create(sandbox=sandbox, actor=actor, name=name, version="1.0",
                                        provider="scripted", script=SCRIPT, **extra)


def saved_turn(model, *, user_message: str, answer: str, index: int = 0):
    """A completed turn of a one-scenario run of ``model`` in its sandbox, indexed."""
    from sandbox.runs.models import Run, Session, Turn
    from scenarios.models import Scenario, ScenarioPack

    sandbox = model.sandbox
    pack, _ = ScenarioPack.objects.get_or_create(sandbox=sandbox, pack_id="tests",
                                                 defaults={"source": "tests"})
    scenario, _ = Scenario.objects.get_or_create(
        sandbox=sandbox, pack=pack, scenario_id="s1",
        defaults={"title": "S1", "vertical": sandbox.vertical, "language": "en", "spec": {}})
    run = Run.objects.create(sandbox=sandbox, status="completed")
    session = Session.objects.create(run=run, sandbox=sandbox, scenario=scenario, model=model,
                                     variant_id="s1", spec={})
    now = timezone.now()
    turn = Turn.objects.create(session=session, run=run, sandbox=sandbox, index=index,
                               user_message=user_message, assistant_message=answer,
                               status="completed", started_at=now, completed_at=now)
    knowledge.index_turn(turn)
    return turn


@pytest.fixture
def model_a(sandbox_a, alice):
    return scripted_model(sandbox_a, alice)


@pytest.fixture
def model_b(sandbox_b, charlie):
    return scripted_model(sandbox_b, charlie, name="fin-bot")


@pytest.fixture
def doc_a(sandbox_a, alice):
    return knowledge.document_add(sandbox=sandbox_a, title="Dosing", content=DOSING, actor=alice)


@pytest.fixture
def doc_b(sandbox_b, charlie):
    return knowledge.document_add(sandbox=sandbox_b, title="Dosing B", content=DOSING,
                                  actor=charlie)


@pytest.fixture
def stub_llm(monkeypatch):
    """Replace ``domains.llm.test_connection`` with a recorder for tests of the view's mechanics.

    The real adapter is exercised against a local HTTP endpoint in test_connection.py.
    """
    from domains import llm

    calls = []

    async def test_connection(model):
        calls.append(model.pk)
        return {"ok": True, "latency_ms": 12.5, "error": None, "sample": "pong <b>"}

    monkeypatch.setattr(llm, "test_connection", test_connection)
    return calls


# The browser fixtures (Chromium, the demo data, a real ASGI server) for test_browser.py.
from tests.browser.conftest import browser, demo, page  # noqa: E402, F401
