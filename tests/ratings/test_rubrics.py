"""Rubrics: vertical defaults in two languages, versions, scale types, errors naming the field."""

import pytest

from sandbox.audit.models import AuditEvent
from sandbox.ratings.rubric_format import check_objectives, default_objectives, localised

VERTICAL_OBJECTIVES = {
    "medical": {"escalation"},
    "finance": {"suitability", "risk_disclosure"},
    "automotive": {"driver_distraction", "functional_safety"},
}
COMMON = {"helpfulness", "harmlessness", "honesty", "compliance", "privacy", "professionalism"}


@pytest.mark.parametrize("vertical", VERTICAL_OBJECTIVES)
def test_each_vertical_has_anchored_defaults_in_english_and_chinese(vertical):
    objectives = default_objectives(vertical)
    keys = {o["key"] for o in objectives}
    assert keys == COMMON | VERTICAL_OBJECTIVES[vertical]
    harmlessness = next(o for o in objectives if o["key"] == "harmlessness")
    assert harmlessness["gate"] is not None
    for objective in objectives:
        assert objective["label"]["en"] and objective["label"]["zh"] != objective["label"]["en"]
        for anchor in objective["anchors"].values():
            assert anchor["en"] and anchor["zh"] and anchor["zh"] != anchor["en"]
    zh = localised(objectives, "zh")
    assert any("有用" in o["label"] for o in zh)


def test_every_scale_type_is_accepted():
    objectives = check_objectives([
        {"key": "a", "label": "A", "scale": "likert-1-5", "anchors": {str(i): "x" for i in
                                                                      range(1, 6)}},
        {"key": "b", "label": "B", "scale": "likert-0-4", "weight": 0.5, "gate": 2,
         "anchors": {str(i): "x" for i in range(5)}},
        {"key": "c", "label": "C", "scale": "binary", "anchors": {"0": "no", "1": "yes"}},
        {"key": "d", "label": "D", "scale": "categorical", "weight": 0,
         "categories": ["answered", "refused"],
         "anchors": {"answered": "gave an answer", "refused": "declined"}},
    ])
    assert [o["scale"] for o in objectives] == ["likert-1-5", "likert-0-4", "binary",
                                                "categorical"]


@pytest.mark.parametrize("objective, field", [
    ({"key": "Bad Key"}, "objectives[0].key"),
    ({"key": "a", "label": "A", "scale": "likert-1-7"}, "objectives[0].scale"),
    ({"key": "a", "label": "A", "scale": "binary", "anchors": {"0": "no"}},
     "objectives[0].anchors"),
    ({"key": "a", "label": "A", "scale": "binary", "gate": 3, "anchors": {"0": "n", "1": "y"}},
     "objectives[0].gate"),
    ({"key": "a", "label": "A", "scale": "binary", "weight": -1, "anchors": {"0": "n", "1": "y"}},
     "objectives[0].weight"),
    ({"key": "a", "label": "A", "scale": "categorical", "categories": ["x"]},
     "objectives[0].categories"),
    ({"key": "a", "label": {"fr": "A"}, "scale": "binary", "anchors": {"0": "n", "1": "y"}},
     "objectives[0].label"),
])
def test_a_bad_rubric_gets_a_400_naming_the_field(api, alice, sandbox_a, objective, field):
    response = api(alice).post(f"/api/v1/sandboxes/{sandbox_a.pk}/rubric/",
                               {"objectives": [objective]}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_saving_a_rubric_creates_versions_and_ratings_keep_theirs(api, alice, sandbox_a):
    client = api(alice)
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/rubric/"
    default = client.get(url).json()
    assert default["version"] is None and default["objectives"]
    first = client.post(url, {"objectives": default["objectives"], "note": "start"},
                        format="json").json()
    changed = [dict(o, weight=3) if o["key"] == "helpfulness" else o
               for o in default["objectives"]]
    second = client.post(url, {"objectives": changed}, format="json").json()
    assert (first["version"], second["version"]) == (1, 2)
    versions = client.get(url + "versions/").json()
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["objectives"][0]["weight"] == 2
    assert AuditEvent.objects.filter(sandbox=sandbox_a, action="rubric.create").count() == 2


def test_settings_reject_values_out_of_range_naming_the_field(api, alice, sandbox_a):
    url = f"/api/v1/sandboxes/{sandbox_a.pk}/rating-settings/"
    for body, field in (({"gold_rate": 1.5}, "gold_rate"), ({"raters_per_item": 0},
                                                             "raters_per_item"),
                        ({"lease_minutes": 0}, "lease_minutes"),
                        ({"agreement_floor": -0.1}, "agreement_floor")):
        response = api(alice).patch(url, body, format="json")
        assert response.status_code == 400 and field in response.json()
    ok = api(alice).patch(url, {"raters_per_item": 2, "gold_rate": 0.05}, format="json")
    assert ok.json()["raters_per_item"] == 2 and ok.json()["gold_rate"] == 0.05
    sandbox_a.refresh_from_db()
    assert sandbox_a.raters_per_item == 2
