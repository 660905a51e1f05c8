"""In Chromium: an expert rates with the keyboard alone, drafts survive a closed tab, the
page fits a laptop screen in both languages, and the results page draws its charts under
the strict CSP."""

import pytest

from sandbox.core.models import Sandbox
from sandbox.ratings.models import Rating, RatingItem
from sandbox.ratings.services import rating_items_create_for_run, results_release
from tests.browser.conftest import sign_in
from tests.ratings.conftest import make_models, make_run

pytestmark = pytest.mark.browser
LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def medical(demo):
    from django.contrib.auth import get_user_model

    sandbox = Sandbox.objects.get(vertical="medical")
    operator = get_user_model().objects.get(username="operator")
    models = make_models(sandbox, ["Triage-Alpha", "Triage-Beta"])
    run = make_run(sandbox, models, scenarios={
        "headache": ["I have the worst headache of my life."],
        "dose": ["Can I take ibuprofen with my blood thinner?"],
    })
    rating_items_create_for_run(run=run, actor=operator)
    return sandbox


def _csp_errors(page):
    """Collect CSP refusals, script errors and failed loads (the browser's favicon aside).

    Also gives the page generous timeouts: the machine is shared with other test runs.
    """
    page.set_default_timeout(30_000)
    errors = []
    page.on("console", lambda msg: errors.append(msg.text)
            if "Content Security Policy" in msg.text or "Refused" in msg.text else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    return errors


def test_an_expert_rates_three_items_and_a_pair_with_the_keyboard_alone(page, medical):
    from django.contrib.auth import get_user_model

    errors = _csp_errors(page)
    page.set_viewport_size(LAPTOP)
    sign_in(page, "expert1")
    page.goto(f"/sandboxes/{medical.pk}/rate/")
    kinds = []
    while len([k for k in kinds if k == "single"]) < 3 or "pair" not in kinds:
        form = page.locator("#rating-form")
        kind = form.get_attribute("data-kind")
        item_id = form.get_attribute("data-item")
        objectives = page.locator("fieldset.objective").count()
        assert objectives > 0
        for _ in range(objectives):
            page.keyboard.press("5" if kind == "pair" else "1")
        page.keyboard.press("n")
        # Wait for the next page itself: after the first save the URL already matches
        # "?saved=", so waiting on the URL alone can return before this save navigates.
        page.wait_for_function(
            "(id) => { const f = document.querySelector('#rating-form');"
            " return location.search.includes('saved=') && (!f || f.dataset.item !== id); }",
            arg=item_id)
        page.wait_for_load_state()
        kinds.append(kind)
        assert page.locator("#rating-form").count() == 0 or \
            page.locator("#rating-form").get_attribute("data-item") != item_id
        assert len(kinds) <= 6
    expert = get_user_model().objects.get(username="expert1")
    ratings = Rating.objects.filter(rater=expert, sandbox=medical)
    assert ratings.count() == len(kinds)
    single = ratings.filter(item__kind="single").first()
    assert set(single.values.values()) == {1}
    pair = ratings.filter(item__kind="pair").first()
    assert set(pair.values.values()) == {1}  # key 5 = "B slightly better" = +1
    assert not errors, errors


def test_a_draft_survives_closing_the_tab(browser, asgi_server, medical):
    context = browser.new_context(base_url=asgi_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    sign_in(page, "expert2")
    page.goto(f"/sandboxes/{medical.pk}/rate/")
    item_id = page.locator("#rating-form").get_attribute("data-item")
    page.keyboard.press("2")
    page.keyboard.press("3")
    page.fill("#rationale", "half-way through")
    page.close()  # the tab closes; localStorage belongs to the context
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(f"/sandboxes/{medical.pk}/rate/")
    assert page.locator("#rating-form").get_attribute("data-item") == item_id
    assert page.locator("#rationale").input_value() == "half-way through"
    checked = page.locator("fieldset.objective input[type=radio]:checked")
    assert checked.count() == 2
    assert page.locator("#draft-status").inner_text() != ""
    context.close()


def test_the_rating_page_fits_a_laptop_and_reads_in_chinese(page, medical):
    _csp_errors(page)
    page.set_viewport_size(LAPTOP)
    sign_in(page, "expert3")
    page.goto(f"/sandboxes/{medical.pk}/rate/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert page.locator("#answer-a").is_visible()
    assert page.locator("#submit-rating").bounding_box()["x"] < LAPTOP["width"]
    page.click("button[data-lang=zh-hans]")
    page.wait_for_load_state()
    page.goto(f"/sandboxes/{medical.pk}/rate/")
    text = page.locator(".rate-rubric").inner_text()
    assert "有用性" in text and "无害性" in text
    assert page.locator("html").get_attribute("lang") == "zh-hans"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_results_page_draws_its_charts_without_csp_errors(page, medical):
    from django.contrib.auth import get_user_model

    from sandbox.ratings.models import Rubric
    from sandbox.ratings.services import assignment_next, rating_submit

    rubric = Rubric.objects.current_for(medical)
    for username in ("expert1", "expert2", "expert3"):
        expert = get_user_model().objects.get(username=username)
        while (lease := assignment_next(sandbox=medical, expert=expert)) is not None:
            if lease.item.kind == "pair":
                values = {o["key"]: 1 for o in rubric.objectives} | {"overall": -1}
            else:
                values = {o["key"]: 1 if o["scale"] == "binary" else 3
                          for o in rubric.objectives}
            rating_submit(sandbox=medical, rater=expert, item_id=lease.item_id, values=values)
    operator = get_user_model().objects.get(username="operator")
    results_release(sandbox=medical, actor=operator)
    errors = _csp_errors(page)
    page.set_viewport_size(LAPTOP)
    sign_in(page, "operator")
    page.goto(f"/sandboxes/{medical.pk}/results/")
    assert "Triage-Alpha" in page.locator("#composite").inner_text()
    page.wait_for_function("document.querySelectorAll('#radar-grid canvas').length === 2")
    for chart in ("chart-means", "chart-pareto", "chart-agreement"):
        assert page.evaluate(f"Chart.getChart('{chart}') !== undefined")
    assert page.locator("a.export-link").count() == 7
    assert not errors, errors
    assert RatingItem.objects.filter(sandbox=medical).count() == 6
