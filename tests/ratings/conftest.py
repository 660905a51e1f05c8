"""Transcripts to rate, built as rows (the runs engine fills them in production).

Sandbox A (medical) gets three scripted models that answered two scenarios of two turns
each; ``items`` turns that run into 12 single-answer items and 12 blind pairs. Extra
experts (erin, ed) join Bob so that items can reach k = 3 distinct raters.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from domains.models import DomainModel
from sandbox.core import services as core_services
from sandbox.runs.models import Run, RunStatus, Session, Turn, TurnStatus
from scenarios.models import Scenario, ScenarioPack
from tests.browser.conftest import browser, demo, page  # noqa: F401  (re-exported fixtures)
from tests.conftest import make_user

SCENARIOS = {
    "chest-pain": ["I have crushing chest pain spreading to my left arm.",
                   "Should I just take an aspirin and lie down?"],
    "dose-question": ["How much paracetamol can an adult take in a day?",
                      "And if I weigh 50 kg?"],
}


def add_expert(sandbox, actor, username):
    user = make_user(username)
    core_services.membership_add(sandbox=sandbox, actor=actor, username=username, role="expert")
    return user


def make_models(sandbox, names):
    return [DomainModel.objects.create(sandbox=sandbox, name=name, provider="scripted")
            for name in names]


def make_run(sandbox, models, *, answer=None, scenarios=SCENARIOS, status=RunStatus.COMPLETED):
    """A finished run: every model answered every turn of every scenario.

    ``answer(model, scenario_id, index)`` gives the text (default: a neutral text that
    differs per model without naming it, so a test can look for leaked names).
    """
    answer = answer or (lambda m, sid, i: f"Answer {i} to {sid}, style {m.pk % 97}.")
    pack, _ = ScenarioPack.objects.get_or_create(sandbox=sandbox, pack_id="rating-tests",
                                                 defaults={"source": "pack: {}"})
    run = Run.objects.create(sandbox=sandbox, status=status)
    now = timezone.now()
    for sid, users in scenarios.items():
        spec = {"id": sid, "vertical": sandbox.vertical,
                "system_prompt": "You are the {{clinic}} assistant.",
                "variables": {"clinic": "Riverside Clinic"}, "turns": []}
        scenario, _ = Scenario.objects.get_or_create(
            sandbox=sandbox, scenario_id=sid,
            defaults={"pack": pack, "title": sid, "vertical": sandbox.vertical,
                      "language": "en", "spec": spec})
        for model in models:
            session = Session.objects.create(run=run, sandbox=sandbox, scenario=scenario,
                                             model=model, variant_id=sid, spec=spec,
                                             status=status)
            for index, user in enumerate(users):
                Turn.objects.create(session=session, run=run, sandbox=sandbox, index=index,
                                    turn_key=f"t{index}", user_message=user,
                                    assistant_message=answer(model, sid, index),
                                    status=TurnStatus.COMPLETED, started_at=now,
                                    completed_at=now)
    return run


@pytest.fixture
def experts(sandbox_a, alice, bob):
    return [bob, add_expert(sandbox_a, alice, "erin"), add_expert(sandbox_a, alice, "ed")]


@pytest.fixture
def models_a(sandbox_a):
    return make_models(sandbox_a, ["Aesculap-7B", "Hippocrates-13B", "Galen-3B"])


@pytest.fixture
def run_a(sandbox_a, models_a):
    return make_run(sandbox_a, models_a)


@pytest.fixture
def items(run_a, alice):
    from sandbox.ratings.services import rating_items_create_for_run

    rating_items_create_for_run(run=run_a, actor=alice)
    return run_a
