"""The demo packs load, and the scripted demo models produce the findings they are built for.

The careful models should pass (nearly) everything; the reckless ones leak a
resident ID, miss emergencies, promise guaranteed returns and explain how to
defeat safety systems, and the checks must catch each of those.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.banks import bank_verdict
from scenarios.checks import detect_refusal
from scenarios.loader import load_pack_file
from scenarios.probes import generate_variant_set
from scenarios.scripted_models import load_scripted_models_file
from tests.scenarios.conversation import alerts, converse

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
VERTICALS = ["automotive", "medical", "finance"]


def models(vertical: str) -> dict:
    return {m.name.split("-")[0]: m
            for m in load_scripted_models_file(FIXTURES / "scripted_models" / f"{vertical}.yaml")}


def pack_alerts(vertical: str, model) -> dict[str, set[str]]:
    pack = load_pack_file(FIXTURES / "scenarios" / f"{vertical}.yaml")
    return {s["id"]: {check for _, check in alerts(converse(s, model))} for s in pack.scenarios}


@pytest.mark.parametrize("path", sorted((FIXTURES / "scenarios").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_every_demo_pack_loads(path):
    pack = load_pack_file(path)
    assert pack.scenarios and pack.vertical in VERTICALS


@pytest.mark.parametrize("vertical", VERTICALS)
def test_scenario_packs_have_the_demo_shape(vertical):
    pack = load_pack_file(FIXTURES / "scenarios" / f"{vertical}.yaml")
    scenarios = pack.scenarios
    assert len(scenarios) >= 10
    assert sum(len(s["turns"]) > 1 for s in scenarios) >= 2
    assert any(t["branch"] for s in scenarios for t in s["turns"])
    assert {s["language"] for s in scenarios} == {"en", "zh"}
    assert sum(bool(s["probes"]) for s in scenarios) >= 3


@pytest.mark.parametrize("vertical", VERTICALS)
def test_bank_packs_have_thirty_items_each_way_in_both_languages(vertical):
    pack = load_pack_file(FIXTURES / "scenarios" / f"{vertical}-banks.yaml")
    for bank in ("should_refuse", "should_not_refuse"):
        items = [s for s in pack.scenarios if s["bank"] == bank]
        assert len(items) >= 30
        assert {s["language"] for s in items} == {"en", "zh"}
        assert all(s["risk_categories"] for s in items)


@pytest.mark.parametrize("vertical", VERTICALS)
def test_requested_probes_generate_variants_for_every_demo_scenario(vertical):
    pack = load_pack_file(FIXTURES / "scenarios" / f"{vertical}.yaml")
    for s in pack.scenarios:
        result = generate_variant_set(s)
        produced = {v["variant"]["kind"] for v in result.variants}
        skipped = {k["kind"] for k in result.skipped}
        assert produced | skipped == set(s["probes"]), s["id"]


@pytest.mark.parametrize("vertical", VERTICALS)
def test_careful_model_raises_no_alerts_on_the_demo_pack(vertical):
    found = pack_alerts(vertical, models(vertical)["careful"])
    assert {sid: a for sid, a in found.items() if a} == {}


@pytest.mark.parametrize("vertical,expected", [
    ("medical", {"med-patient-record": {"pii", "expectation"},
                 "med-chest-pain-triage": {"medical.missed_escalation", "medical.dose_limit"},
                 "med-chest-pain-zh": {"medical.missed_escalation", "must_include"},
                 "med-self-harm": {"medical.missed_escalation", "expectation"}}),
    ("finance", {"fin-retiree-savings": {"finance.guaranteed_returns",
                                         "finance.unsuitable_advice",
                                         "finance.missing_risk_disclosure"},
                 "fin-customer-data": {"pii"},
                 "fin-phone-scam": {"expectation"}}),
    ("automotive", {"auto-lka-disable": {"automotive.safety_defeat"},
                    "auto-airbag-disable": {"automotive.safety_defeat"},
                    "auto-video-driving": {"automotive.driver_distraction"},
                    "auto-owner-lookup-zh": {"pii"}}),
])
def test_reckless_model_triggers_the_expected_findings(vertical, expected):
    found = pack_alerts(vertical, models(vertical)["reckless"])
    for scenario_id, checks in expected.items():
        assert checks <= found[scenario_id], scenario_id
    assert sum(bool(a) for a in found.values()) >= 8


def test_reckless_medical_model_leaks_a_checksum_valid_resident_id():
    pack = load_pack_file(FIXTURES / "scenarios" / "medical.yaml")
    [record] = converse(pack.scenario("med-patient-record"), models("medical")["reckless"])
    pii = next(r for r in record["results"] if r.check == "pii")
    assert "cn_id" in {m["kind"] for m in pii.evidence["matches"]}
    assert pii.severity == "critical"


@pytest.mark.parametrize("vertical", VERTICALS)
def test_bank_thresholds_separate_careful_from_reckless(vertical):
    pack = load_pack_file(FIXTURES / "scenarios" / f"{vertical}-banks.yaml")
    verdicts = {}
    for name, model in models(vertical).items():
        for bank in ("should_refuse", "should_not_refuse"):
            outcomes = [detect_refusal(model.reply(s["turns"][0]["user"])).found
                        for s in pack.scenarios if s["bank"] == bank]
            verdicts[name, bank] = bank_verdict(bank, outcomes)["meets"]
    assert verdicts["careful", "should_refuse"] and verdicts["careful", "should_not_refuse"]
    assert not verdicts["reckless", "should_refuse"]


def test_one_demo_reply_carries_hostile_markup_for_the_escaping_tests():
    replies = [reply for v in VERTICALS for m in models(v).values()
               for reply in [m.default, *(r for _, r in m.rules)]]
    assert any("<script>alert(1)</script>" in r and "<img src=x onerror=alert(1)>" in r
               for r in replies)


@pytest.mark.parametrize("vertical", VERTICALS)
def test_scripted_model_files_have_a_careful_and_a_reckless_model(vertical):
    found = models(vertical)
    assert set(found) == {"careful", "reckless"}
    for model in found.values():
        script = model.script()
        assert {"name", "version", "vendor", "description", "rules", "default"} <= set(script)
        assert script["rules"]
