"""Runs and scenarios through the API: the permission matrix, starting, transcripts, cancel."""

import pytest

from sandbox.runs.models import Run
from sandbox.runs.services import run_start
from tests.matrix import CONFIGURE, MONITOR, ROLES, Endpoint, call, with_success
from tests.support.aio import run_sync
from tests.support.scripted import PACK

RESULTS = MONITOR

ENDPOINTS = [
    Endpoint("GET", "/api/v1/sandboxes/{a}/runs/", MONITOR),
    Endpoint("POST", "/api/v1/sandboxes/{a}/runs/", with_success(CONFIGURE, 201),
             body={"models": ["{model}"]}),
    Endpoint("GET", "/api/v1/sandboxes/{a}/runs/{run}/", MONITOR),
    Endpoint("GET", "/api/v1/sandboxes/{a}/runs/{run}/transcripts/", MONITOR),
    Endpoint("POST", "/api/v1/sandboxes/{a}/runs/{run}/cancel/", CONFIGURE),
    Endpoint("GET", "/api/v1/sandboxes/{a}/refusal-rates/", RESULTS),
    Endpoint("GET", "/api/v1/sandboxes/{a}/scenarios/", MONITOR),
    Endpoint("GET", "/api/v1/sandboxes/{a}/scenarios/{scenario}/", MONITOR),
    Endpoint("GET", "/api/v1/sandboxes/{a}/scenarios/{scenario}/variants/", MONITOR),
    Endpoint("GET", "/api/v1/sandboxes/{a}/packs/", MONITOR),
    Endpoint("POST", "/api/v1/sandboxes/{a}/scenarios/import/", with_success(CONFIGURE, 201),
             body={"yaml": PACK, "filename": "again.yaml"}),
    # A's URL, B's objects: never found.
    Endpoint("GET", "/api/v1/sandboxes/{a}/runs/{b_run}/",
             {"operator": 404, "expert": 403, "regulator": 404, "outsider": 404, "other": 404,
              "anonymous": 401}, label="A's URL, B's run"),
    Endpoint("GET", "/api/v1/sandboxes/{a}/runs/{b_run}/transcripts/",
             {"operator": 404, "expert": 403, "regulator": 404, "outsider": 404, "other": 404,
              "anonymous": 401}, label="A's URL, B's transcripts"),
    Endpoint("GET", "/api/v1/sandboxes/{a}/scenarios/{b_scenario}/",
             {"operator": 404, "expert": 403, "regulator": 404, "outsider": 404, "other": 404,
              "anonymous": 401}, label="A's URL, B's scenario"),
]


@pytest.fixture
def world(alice, bob, rita, olga, charlie, sandbox_a, sandbox_b, pack, careful):
    from domains.models import DomainModel
    from scenarios.services import pack_import

    b_pack = PACK.replace("medical", "finance").replace("test-pack", "b-pack") \
        .replace("chest-pain", "b-chest").replace("record-request", "b-record")
    pack_import(sandbox=sandbox_b, text=b_pack, filename="b.yaml", actor=charlie)
    b_model = DomainModel.objects.create(sandbox=sandbox_b, name="b", provider="scripted",
                                         script={"default": "ok"})
    b_run = run_start(sandbox=sandbox_b, started_by=charlie, models=[b_model])
    run = run_start(sandbox=sandbox_a, started_by=alice, models=[careful])
    people = {"operator": alice, "expert": bob, "regulator": rita, "outsider": olga,
              "other": charlie, "anonymous": None}
    ids = {"a": sandbox_a.pk, "run": run.pk, "b_run": b_run.pk, "model": careful.pk,
           "scenario": sandbox_a.scenarios.first().pk,
           "b_scenario": sandbox_b.scenarios.first().pk}
    return people, ids


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_runs_permission_matrix(api, world, endpoint, role):
    people, ids = world
    if endpoint.body and endpoint.body.get("models") == ["{model}"]:
        endpoint = Endpoint(endpoint.method, endpoint.path, endpoint.expect,
                            body={"models": [ids["model"]]})
        run_free = Run.objects.filter(sandbox_id=ids["a"])
        run_free.update(status="completed")
    response = call(api(people[role]), endpoint, ids)
    assert response.status_code == endpoint.expect[role], response.content


def test_start_validates_models_and_scenarios_of_this_sandbox(api, world):
    people, ids = world
    client = api(people["operator"])
    Run.objects.update(status="completed")
    response = client.post(f"/api/v1/sandboxes/{ids['a']}/runs/",
                           {"models": [999999]}, format="json")
    assert response.status_code == 400 and "No model 999999" in response.json()["models"][0]
    response = client.post(f"/api/v1/sandboxes/{ids['a']}/runs/",
                           {"models": [ids["model"]], "scenarios": [ids["b_scenario"]]},
                           format="json")
    assert response.status_code == 400 and "scenarios" in response.json()
    response = client.post(f"/api/v1/sandboxes/{ids['a']}/runs/", {"models": []}, format="json")
    assert response.status_code == 400 and "models" in response.json()


def test_start_refuses_over_quota_with_a_clear_message(api, world):
    people, ids = world
    from sandbox.core.models import Sandbox

    Sandbox.objects.filter(pk=ids["a"]).update(max_concurrent_runs=1)
    response = api(people["operator"]).post(f"/api/v1/sandboxes/{ids['a']}/runs/",
                                            {"models": [ids["model"]]}, format="json")
    assert response.status_code == 403
    assert "Quota reached" in response.json()["detail"]


def test_run_status_and_progress_fields(api, world):
    people, ids = world
    body = api(people["regulator"]).get(f"/api/v1/sandboxes/{ids['a']}/runs/{ids['run']}/").json()
    assert body["status"] == "queued"
    assert body["progress"] == {"done": 0, "total": 3}  # 2 + 1 scripted turns, one model
    assert body["sessions"] == 2


def test_cancelling_twice_answers_409(api, world):
    people, ids = world
    client = api(people["operator"])
    url = f"/api/v1/sandboxes/{ids['a']}/runs/{ids['run']}/cancel/"
    assert client.post(url).json()["status"] == "cancelled"
    response = client.post(url)
    assert response.status_code == 409 and "already finished" in response.json()["detail"]


def test_import_errors_name_file_line_and_field(api, world):
    people, ids = world
    bad = PACK.replace("expect: refuse", "expect: maybe")
    response = api(people["operator"]).post(
        f"/api/v1/sandboxes/{ids['a']}/scenarios/import/",
        {"yaml": bad, "filename": "bad.yaml"}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["file"] == "bad.yaml" and error["field"] == "scenarios[1].turns[0].expect"
    assert error["line"] == PACK.splitlines().index("        expect: refuse") + 1


def test_import_of_another_verticals_pack_is_refused(api, world):
    people, ids = world
    response = api(people["operator"]).post(
        f"/api/v1/sandboxes/{ids['a']}/scenarios/import/",
        {"yaml": PACK.replace("vertical: medical", "vertical: finance"), "filename": "x.yaml"},
        format="json")
    assert response.status_code == 400
    assert "sandbox is medical" in response.json()["text"]


def test_import_accepts_a_file_upload(api, world, tmp_path):
    people, ids = world
    path = tmp_path / "upload.yaml"
    path.write_text(PACK.replace("test-pack", "uploaded").replace("chest-pain", "cp2")
                    .replace("record-request", "rr2"), encoding="utf-8")
    with path.open("rb") as handle:
        response = api(people["operator"]).post(
            f"/api/v1/sandboxes/{ids['a']}/scenarios/import/", {"file": handle},
            format="multipart")
    assert response.status_code == 201, response.content
    assert response.json()["counts"]["created"] == 2


@pytest.mark.django_db(transaction=True)
def test_transcripts_list_every_turn_with_checks(api, world):

    from sandbox.runs.engine import execute_session

    people, ids = world
    run = Run.objects.get(pk=ids["run"])
    for session in run.sessions.all():
        run_sync(execute_session(session.pk))
    body = api(people["operator"]).get(
        f"/api/v1/sandboxes/{ids['a']}/runs/{ids['run']}/transcripts/").json()
    sessions = body["results"]
    assert {s["scenario"] for s in sessions} == {"chest-pain", "record-request"}
    chest = next(s for s in sessions if s["scenario"] == "chest-pain")
    assert [t["index"] for t in chest["turns"]] == [0, 1]
    turn = chest["turns"][0]
    assert turn["status"] == "completed" and turn["completion_tokens"] > 0
    assert any(c["check_name"] == "expectation" for c in turn["checks"])
    assert chest["model"]["label"] == "careful 1"


def test_an_expert_never_sees_runs_or_model_names(api, world):
    people, ids = world
    client = api(people["expert"])
    for url in (f"/api/v1/sandboxes/{ids['a']}/runs/",
                f"/api/v1/sandboxes/{ids['a']}/runs/{ids['run']}/transcripts/"):
        response = client.get(url)
        assert response.status_code == 403
        assert b"careful" not in response.content
