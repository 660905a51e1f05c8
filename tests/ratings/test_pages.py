"""The rating, setup and results pages: roles, isolation, escaping, the form flow."""

import pytest

from sandbox.audit.models import AuditEvent
from sandbox.ratings.models import Rating, Rubric
from tests.ratings.conftest import make_models, make_run
from tests.ratings.helpers import rate_everything

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def hostile(sandbox_a, alice):
    from sandbox.ratings.services import rating_items_create_for_run

    models = make_models(sandbox_a, ["Evil-1", "Evil-2"])
    run = make_run(sandbox_a, models, scenarios={"x": [HOSTILE]},
                   answer=lambda m, sid, i: HOSTILE + f" {m.pk % 7}")
    rating_items_create_for_run(run=run, actor=alice)
    return run


PAGES = ["rate", "rating-setup", "results"]
EXPECT = {  # role -> page -> status
    "operator": {"rate": 403, "rating-setup": 200, "results": 200},
    "expert": {"rate": 200, "rating-setup": 403, "results": 403},
    "regulator": {"rate": 403, "rating-setup": 403, "results": 200},
    "other": {"rate": 404, "rating-setup": 404, "results": 404},
}


@pytest.mark.parametrize("role", EXPECT)
@pytest.mark.parametrize("page", PAGES)
def test_pages_answer_by_role_and_hide_other_sandboxes(client, alice, bob, rita, charlie,
                                                       sandbox_a, items, role, page):
    user = {"operator": alice, "expert": bob, "regulator": rita, "other": charlie}[role]
    login(client, user)
    response = client.get(f"/sandboxes/{sandbox_a.pk}/{page}/")
    assert response.status_code == EXPECT[role][page]
    if response.status_code == 404:
        assert b"Sandbox A" not in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client, sandbox_a):
    for page in PAGES:
        response = client.get(f"/sandboxes/{sandbox_a.pk}/{page}/")
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_model_output_is_escaped_on_the_rating_page(client, bob, sandbox_a, hostile):
    login(client, bob)
    html = client.get(f"/sandboxes/{sandbox_a.pk}/rate/").content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_model_output_is_escaped_on_the_adjudication_list(client, alice, sandbox_a, hostile,
                                                          experts):
    from sandbox.ratings.models import RatingItem

    RatingItem.objects.filter(sandbox=sandbox_a).update(status="adjudication")
    login(client, alice)
    html = client.get(f"/sandboxes/{sandbox_a.pk}/rating-setup/").content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;" in html


def test_the_rating_page_names_no_model_and_no_run(client, bob, sandbox_a, items, models_a):
    login(client, bob)
    html = client.get(f"/sandboxes/{sandbox_a.pk}/rate/").content.decode()
    for model in models_a:
        assert model.name not in html
    assert "id=\"rating-form\"" in html
    assert f"runs/{items.pk}" not in html and "Run " not in html


def test_the_form_submits_a_rating_and_shows_the_next_item(client, bob, sandbox_a, items):
    login(client, bob)
    page = client.get(f"/sandboxes/{sandbox_a.pk}/rate/")
    form = page.context["item"]
    data = {"item": form["id"], "rubric_version": form["rubric"]["version"],
            "rationale": "fine", "flags": ["off_topic"]}
    for row in page.context["rows"]:
        data[f"value-{row['key']}"] = row["points"][0]["value"]
    response = client.post(f"/sandboxes/{sandbox_a.pk}/rate/submit/", data)
    assert response.status_code == 302
    rating = Rating.objects.get(rater=bob)
    assert str(rating.item_id) == form["id"] and rating.flags == ["off_topic"]
    following = client.get(response["Location"])
    assert following.context["item"]["id"] != form["id"]
    assert following.context["progress"]["done"] == 1


def test_an_incomplete_form_is_shown_again_with_the_errors_and_the_values(client, bob,
                                                                          sandbox_a, items):
    login(client, bob)
    page = client.get(f"/sandboxes/{sandbox_a.pk}/rate/")
    item = page.context["item"]
    first = page.context["rows"][0]
    response = client.post(f"/sandboxes/{sandbox_a.pk}/rate/submit/", {
        "item": item["id"], f"value-{first['key']}": first["points"][1]["value"],
        "rationale": "half done"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "This value is required." in html and "half done" in html
    assert response.context["rows"][0]["points"][1]["checked"]
    assert not Rating.objects.exists()


def test_operator_saves_a_rubric_version_and_bad_json_names_the_field(client, alice, sandbox_a,
                                                                      items):
    login(client, alice)
    url = f"/sandboxes/{sandbox_a.pk}/rating-setup/rubric/"
    response = client.post(url, {"objectives": '[{"key": "x"}]'}, follow=True)
    text = response.content.decode()
    assert "objectives[0].label" in text and "objectives[0].scale" in text
    rubric = Rubric.objects.current_for(sandbox_a)
    import json

    client.post(url, {"objectives": json.dumps(rubric.objectives), "note": "copy"})
    assert Rubric.objects.current_for(sandbox_a).version == 2


def test_operator_releases_results_from_the_page(client, alice, sandbox_a, items):
    login(client, alice)
    response = client.post(f"/sandboxes/{sandbox_a.pk}/results/release/", follow=True)
    assert response.status_code == 200
    sandbox_a.refresh_from_db()
    assert sandbox_a.results_released
    assert AuditEvent.objects.filter(sandbox=sandbox_a, action="results.release").count() == 1


def test_results_page_shows_tables_and_chart_data(client, api, alice, sandbox_a, items, experts):
    for expert in experts:
        rate_everything(api(expert), sandbox_a)
    login(client, alice)
    response = client.get(f"/sandboxes/{sandbox_a.pk}/results/")
    html = response.content.decode()
    assert 'id="results-data"' in html and "chart.umd.min.js" in html
    for name in ("Aesculap-7B", "Hippocrates-13B", "Galen-3B"):
        assert name in html
    assert 'id="chart-means"' in html and 'id="chart-pareto"' in html


def test_generate_items_from_the_page(client, alice, sandbox_a, run_a):
    login(client, alice)
    response = client.post(f"/sandboxes/{sandbox_a.pk}/rating-setup/generate/",
                           {"run": run_a.pk}, follow=True)
    assert "24 new rating items." in response.content.decode()


def test_a_run_of_another_sandbox_cannot_be_used(client, charlie, alice, sandbox_a, sandbox_b,
                                                 run_a):
    login(client, charlie)
    response = client.post(f"/sandboxes/{sandbox_b.pk}/rating-setup/generate/",
                           {"run": run_a.pk}, follow=True)
    assert "No run with this id in this sandbox." in response.content.decode()
    from sandbox.ratings.models import RatingItem

    assert not RatingItem.objects.exists()
