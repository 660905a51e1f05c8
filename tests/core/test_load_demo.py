"""``manage.py load_demo`` (what ``make run`` loads into an empty database): the demo
accounts, the three vertical sandboxes, and each sandbox's own content in the database."""

from io import StringIO
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from domains.models import DomainModel
from sandbox.audit.services import verify_all
from sandbox.core.models import Membership, Sandbox
from scenarios.models import Scenario

SPEC = yaml.safe_load((Path(settings.BASE_DIR) / "fixtures" / "demo.yaml").read_text(
    encoding="utf-8"))


def _load(*args) -> str:
    out = StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def _content(sandbox) -> dict:
    scenarios = Scenario.objects.filter(sandbox=sandbox)
    return {
        "scenarios": scenarios.filter(bank="").count(),
        "should_refuse": scenarios.filter(bank="should_refuse").count(),
        "should_not_refuse": scenarios.filter(bank="should_not_refuse").count(),
        "models": sorted(DomainModel.objects.filter(sandbox=sandbox)
                         .values_list("provider", flat=True)),
        "members": Membership.objects.filter(sandbox=sandbox).count(),
    }


@pytest.mark.django_db
def test_the_demo_sandboxes_arrive_with_their_packs_banks_and_models():
    output = _load()
    assert "Demo data ready" in output

    sandboxes = {s.name: s for s in Sandbox.objects.all()}
    assert set(sandboxes) == {item["name"] for item in SPEC["sandboxes"]}
    for item in SPEC["sandboxes"]:
        sandbox = sandboxes[item["name"]]
        assert sandbox.vertical == item["vertical"] and sandbox.status == "active"
        content = _content(sandbox)
        assert content["scenarios"] >= 10, item["name"]
        assert content["should_refuse"] >= 30 and content["should_not_refuse"] >= 30
        assert content["models"].count("scripted") >= 2
        assert content["members"] == len(item["members"])
        # Each sandbox holds only its own vertical's packs.
        assert set(Scenario.objects.filter(sandbox=sandbox).values_list(
            "vertical", flat=True)) == {item["vertical"]}

    users = get_user_model().objects
    assert users.count() == len(SPEC["accounts"])
    assert users.get(username="operator").check_password(SPEC["password"])
    assert verify_all()[1] == []  # every change it made is in an unbroken audit trail


@pytest.mark.django_db
def test_loading_again_adds_nothing_and_if_empty_leaves_a_used_database_alone():
    _load()
    before = {s.pk: _content(s) for s in Sandbox.objects.all()}

    _load()
    assert {s.pk: _content(s) for s in Sandbox.objects.all()} == before

    assert "not loaded" in _load("--if-empty")
    assert {s.pk: _content(s) for s in Sandbox.objects.all()} == before
