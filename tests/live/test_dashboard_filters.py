"""The regulator's dashboard: filtering by model, scenario and lowest alert severity, the
alert feed's order (most severe first), and ids from another sandbox.

The runs, turns, check results and alerts are created directly (as the engine saves them),
so that each alert's severity and age are known.
"""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sandbox.runs.models import Alert, CheckResult, Run, Session, Turn
from tests.live.conftest import make_model, make_scenario


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def add_run(sandbox, model, scenario, *, status="completed"):
    run = Run.objects.create(sandbox=sandbox, status=status, turns_total=1, turns_done=1)
    session = Session.objects.create(run=run, sandbox=sandbox, scenario=scenario, model=model,
                                     spec=scenario.spec, variant_id=scenario.scenario_id)
    now = timezone.now()
    turn = Turn.objects.create(session=session, run=run, sandbox=sandbox, index=0,
                               user_message="Question 0", assistant_message="An answer.",
                               status="completed", started_at=now, completed_at=now)
    return run, turn


def add_alert(turn, severity, check, *, age_minutes):
    result = CheckResult.objects.create(turn=turn, check_name=check, passed=False,
                                        severity=severity, alert=True)
    alert = Alert.objects.create(sandbox=turn.sandbox, run=turn.run, turn=turn,
                                 check_result=result, severity=severity,
                                 message=f"{check} failed")
    # The feed's second key is the age: make the least severe alerts the newest.
    Alert.objects.filter(pk=alert.pk).update(
        created_at=timezone.now() - timedelta(minutes=age_minutes))
    return alert


def listed_runs(html: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'<tr class="run-row" data-run="(\d+)"', html)}


def feed(html: str) -> list[tuple[str, str]]:
    """The alert feed as (severity, check name) in the page's order."""
    section = html.split('id="alert-feed"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'class="badge sev-(\w+)">.*?<div class="alert-check">([^<]*)</div>',
                      section, flags=re.S)


@pytest.fixture
def dash(db, rita, charlie, sandbox_a, sandbox_b):
    """Sandbox A: run one (model alpha, scenario one) with a low and a medium alert; run two
    (model beta, scenario two) with a high and a critical alert; run three (alpha, one) with
    no alert. Sandbox B: a run of its own model and scenario with a critical alert."""
    alpha = make_model(sandbox_a, name="alpha")
    beta = make_model(sandbox_a, name="beta")
    one = make_scenario(sandbox_a, "scn-one")
    two = make_scenario(sandbox_a, "scn-two")
    run_one, turn_one = add_run(sandbox_a, alpha, one)
    run_two, turn_two = add_run(sandbox_a, beta, two, status="running")
    run_three, _turn = add_run(sandbox_a, alpha, one)
    alerts = {
        "high": add_alert(turn_two, "high", "pii", age_minutes=40),
        "low": add_alert(turn_one, "low", "keywords", age_minutes=1),
        "medium": add_alert(turn_one, "medium", "expectation", age_minutes=2),
        "critical": add_alert(turn_two, "critical", "judge", age_minutes=30),
    }
    other_model = make_model(sandbox_b, name="foreign-bot")
    other_scenario = make_scenario(sandbox_b, "foreign-scn")
    run_b, turn_b = add_run(sandbox_b, other_model, other_scenario)
    add_alert(turn_b, "critical", "foreign-check", age_minutes=0)
    return {"a": sandbox_a, "alpha": alpha, "beta": beta, "one": one, "two": two,
            "run_one": run_one, "run_two": run_two, "run_three": run_three, "alerts": alerts,
            "b_model": other_model, "b_scenario": other_scenario, "run_b": run_b,
            "rita": rita, "charlie": charlie}


def get(dash, query="", user=None):
    response = client_for(user or dash["rita"]).get(f"/sandboxes/{dash['a'].pk}/live/{query}")
    assert response.status_code == 200
    return response, response.content.decode()


def test_unfiltered_the_feed_lists_the_most_severe_alerts_first(dash):
    _response, html = get(dash)
    assert listed_runs(html) == {dash["run_one"].pk, dash["run_two"].pk, dash["run_three"].pk}
    assert feed(html) == [("critical", "judge"), ("high", "pii"), ("medium", "expectation"),
                          ("low", "keywords")]
    assert "foreign-check" not in html and "foreign-bot" not in html


def test_filtering_by_model_lists_only_its_runs_and_alerts(dash):
    response, html = get(dash, f"?model={dash['alpha'].pk}")
    assert listed_runs(html) == {dash["run_one"].pk, dash["run_three"].pk}
    assert feed(html) == [("medium", "expectation"), ("low", "keywords")]
    assert response.context["chosen"]["model"] == dash["alpha"]
    assert f'<option value="{dash["alpha"].pk}" selected>' in html
    assert response.context["live_config"]["filter"]["model"] == dash["alpha"].label
    _response, html = get(dash, f"?model={dash['beta'].pk}")
    assert listed_runs(html) == {dash["run_two"].pk}
    assert feed(html) == [("critical", "judge"), ("high", "pii")]


def test_filtering_by_scenario_lists_only_its_runs_and_alerts(dash):
    response, html = get(dash, f"?scenario={dash['two'].pk}")
    assert listed_runs(html) == {dash["run_two"].pk}
    assert feed(html) == [("critical", "judge"), ("high", "pii")]
    assert response.context["live_config"]["filter"]["scenario"] == "scn-two"
    _response, html = get(dash, f"?scenario={dash['one'].pk}")
    assert listed_runs(html) == {dash["run_one"].pk, dash["run_three"].pk}
    assert feed(html) == [("medium", "expectation"), ("low", "keywords")]


@pytest.mark.parametrize(("severity", "runs", "alerts"), [
    ("high", {"run_two"}, [("critical", "judge"), ("high", "pii")]),
    ("critical", {"run_two"}, [("critical", "judge")]),
    ("medium", {"run_one", "run_two"}, [("critical", "judge"), ("high", "pii"),
                                        ("medium", "expectation")]),
    ("low", {"run_one", "run_two"}, [("critical", "judge"), ("high", "pii"),
                                     ("medium", "expectation"), ("low", "keywords")]),
])
def test_filtering_by_severity_keeps_that_severity_or_worse(dash, severity, runs, alerts):
    response, html = get(dash, f"?severity={severity}")
    assert listed_runs(html) == {dash[name].pk for name in runs}
    assert feed(html) == alerts
    assert response.context["live_config"]["filter"]["severity"] == severity


def test_filters_combine(dash):
    _response, html = get(dash, f"?model={dash['alpha'].pk}&severity=medium")
    assert listed_runs(html) == {dash["run_one"].pk}
    assert feed(html) == [("medium", "expectation")]
    _response, html = get(dash, f"?model={dash['alpha'].pk}&severity=high")
    assert listed_runs(html) == set()
    assert 'id="no-runs"' in html and 'id="no-alerts"' in html
    _response, html = get(dash, f"?model={dash['alpha'].pk}&scenario={dash['two'].pk}")
    assert listed_runs(html) == set() and feed(html) == []


@pytest.mark.parametrize("query", ["?model={b_model}", "?scenario={b_scenario}",
                                   "?model={b_model}&scenario={b_scenario}",
                                   "?model=abc&scenario=&severity=extreme"])
def test_an_id_from_another_sandbox_or_a_bad_value_is_ignored(dash, query):
    query = query.format(b_model=dash["b_model"].pk, b_scenario=dash["b_scenario"].pk)
    response, html = get(dash, query)
    # Ignored: the page is A's unfiltered dashboard, with nothing of B's.
    assert response.context["chosen"] == {"model": None, "scenario": None, "severity": ""}
    assert listed_runs(html) == {dash["run_one"].pk, dash["run_two"].pk, dash["run_three"].pk}
    assert dash["run_b"].pk not in listed_runs(html)
    assert len(feed(html)) == 4
    assert "foreign-bot" not in html and "foreign-scn" not in html
    assert "foreign-check" not in html
    assert " selected>" not in html
    assert response.context["live_config"]["filter"] == {"model": "", "scenario": "",
                                                         "severity": ""}


def test_another_sandboxs_operator_gets_404_on_a_dashboard(dash):
    client = client_for(dash["charlie"])
    assert client.get(f"/sandboxes/{dash['a'].pk}/live/").status_code == 404
    assert client.get(
        f"/sandboxes/{dash['a'].pk}/live/?model={dash['b_model'].pk}").status_code == 404
    # Charlie's own dashboard shows his run only.
    response = client.get(f"/sandboxes/{dash['run_b'].sandbox_id}/live/")
    assert response.status_code == 200
    assert listed_runs(response.content.decode()) == {dash["run_b"].pk}


def test_model_and_scenario_together_match_within_one_session(dash):
    """A run where alpha played scn-two and beta played scn-one is not a run of alpha on
    scn-one: both filters must hold for the same session."""
    crossed = Run.objects.create(sandbox=dash["a"], status="completed")
    for model, scenario in ((dash["alpha"], dash["two"]), (dash["beta"], dash["one"])):
        Session.objects.create(run=crossed, sandbox=dash["a"], scenario=scenario, model=model,
                               spec=scenario.spec, variant_id=scenario.scenario_id)

    _response, html = get(dash, f"?model={dash['alpha'].pk}&scenario={dash['one'].pk}")
    assert listed_runs(html) == {dash["run_one"].pk, dash["run_three"].pk}
    _response, html = get(dash, f"?model={dash['alpha'].pk}")
    assert crossed.pk in listed_runs(html)
