"""Exports: every format loads with ``datasets.load_dataset("json", ...)``, per objective or
composite; operators and regulators only, after release; each leaves an audit event."""

import csv
import io
import json
import random

import pytest

from sandbox.audit.models import AuditEvent
from sandbox.ratings.services import results_release
from tests.ratings.helpers import next_item, submit, values_for

FORMATS = ["trl-preference", "trl-unpaired", "hh-rlhf", "ultrafeedback", "helpsteer",
           "ratings-long"]


@pytest.fixture
def rated(api, alice, sandbox_a, items, experts):
    for number, expert in enumerate(experts):
        client = api(expert)
        while (item := next_item(client, sandbox_a)) is not None:
            # Drawn from the item's content, not from one sequence in the order items are
            # served (which varies from run to run): with that, some runs left no prompt
            # whose best answer passed the gate, and the UltraFeedback export was empty.
            rng = random.Random(json.dumps(
                [11, number, item["context"], sorted(item["answers"].values())]))
            submit(client, sandbox_a, item, values_for(item, lambda p, k, rng=rng: rng.choice(p)),
                   rationale="checked against the label", flags=["hallucination"])
    results_release(sandbox=sandbox_a, actor=alice)
    return sandbox_a


def _download(client, sandbox, fmt, criterion="composite"):
    response = client.get(f"/api/v1/sandboxes/{sandbox.pk}/exports/{fmt}/?criterion={criterion}")
    assert response.status_code == 200, response.content
    return response


@pytest.mark.parametrize("criterion", ["composite", "helpfulness"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_loads_with_datasets(api, alice, rated, tmp_path, monkeypatch, fmt,
                                          criterion):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    body = _download(api(alice), rated, fmt, criterion).content.decode()
    lines = [json.loads(line) for line in body.splitlines()]
    assert lines, f"{fmt} by {criterion} is empty"
    path = tmp_path / f"{fmt}.jsonl"
    path.write_text(body, encoding="utf-8")
    dataset = load_dataset("json", data_files=str(path), split="train",
                           cache_dir=str(tmp_path / "cache"))
    assert dataset.num_rows == len(lines)
    columns = set(dataset.column_names)
    expected = {
        "trl-preference": {"prompt", "chosen", "rejected"},
        "trl-unpaired": {"prompt", "completion", "label"},
        "hh-rlhf": {"chosen", "rejected"},
        "ultrafeedback": {"prompt", "prompt_id", "chosen", "rejected", "messages",
                          "score_chosen", "score_rejected"},
        "helpsteer": {"prompt", "response"},
        "ratings-long": {"item_id", "rater_id", "objective", "value", "scale", "rationale",
                         "flags", "rubric_version", "created_at", "updated_at"},
    }[fmt]
    assert expected <= columns
    if fmt == "trl-preference":
        assert lines[0]["chosen"][0]["role"] == "assistant"
        assert lines[0]["prompt"][-1]["role"] == "user"
    if fmt == "hh-rlhf":
        assert lines[0]["chosen"].startswith("\n\nHuman: ")
    if fmt == "helpsteer" and criterion == "helpfulness":
        assert set(lines[0]) == {"prompt", "response", "helpfulness"}
    if fmt == "ratings-long":
        objectives = {row["objective"] for row in lines}
        if criterion == "composite":
            assert {"escalation", "preference:overall"} <= objectives
        else:
            assert objectives == {"helpfulness", "preference:helpfulness"}
        assert lines[0]["flags"] == ["hallucination"]


def test_ratings_long_has_one_row_per_item_rater_and_objective(api, alice, rated):
    from sandbox.ratings.models import Rating

    body = _download(api(alice), rated, "ratings-long").content.decode()
    rows = [json.loads(line) for line in body.splitlines()]
    expected = sum(len(r.values) for r in Rating.objects.current().filter(sandbox=rated))
    assert len(rows) == expected
    keys = {(r["item_id"], r["rater_id"], r["objective"]) for r in rows}
    assert len(keys) == len(rows)
    assert all(r["rater_id"].startswith("rater-") for r in rows)


def test_the_long_table_also_comes_as_csv(api, alice, rated):
    response = _download(api(alice), rated, "ratings-long-csv")
    assert response["Content-Type"].startswith("text/csv")
    reader = csv.DictReader(io.StringIO(response.content.decode()))
    rows = list(reader)
    assert rows and reader.fieldnames[:4] == ["item_id", "rater_id", "objective", "value"]


def test_an_export_leaves_an_audit_event(api, rita, rated):
    _download(api(rita), rated, "hh-rlhf", "harmlessness")
    event = AuditEvent.objects.filter(sandbox=rated, action="results.export").get()
    assert event.actor == rita
    assert event.payload == {"format": "hh-rlhf", "criterion": "harmlessness"}


def test_an_unknown_criterion_or_format_is_refused_clearly(api, alice, rated):
    client = api(alice)
    bad = client.get(f"/api/v1/sandboxes/{rated.pk}/exports/helpsteer/?criterion=charm")
    assert bad.status_code == 400 and "charm" not in bad.json()["criterion"][0]
    assert "composite" in bad.json()["criterion"][0]
    assert client.get(f"/api/v1/sandboxes/{rated.pk}/exports/parquet/").status_code == 404
    assert not AuditEvent.objects.filter(sandbox=rated, action="results.export").exists()


def test_exports_wait_for_the_release(api, alice, sandbox_a, items):
    response = api(alice).get(f"/api/v1/sandboxes/{sandbox_a.pk}/exports/hh-rlhf/")
    assert response.status_code == 403
    assert "release" in response.json()["detail"]
