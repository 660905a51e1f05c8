"""Export formats: each JSONL file loads with datasets and keeps model identity out."""

import csv
import json
from datetime import datetime, timedelta, timezone

import pytest
from datasets import load_dataset

from sandbox.ratings.formats import (
    COMPOSITE,
    AnswerRecord,
    LongRatingRecord,
    PreferenceRecord,
    export_rows,
    helpsteer_rows,
    hh_rlhf_rows,
    ratings_long_rows,
    trl_preference_rows,
    trl_unpaired_rows,
    ultrafeedback_rows,
    write_csv,
    write_jsonl,
)

CHEST = [
    {"role": "system", "content": "You are a triage assistant."},
    {"role": "user", "content": "I have chest pain and my left arm is numb."},
]
DOSE = [{"role": "user", "content": "Can I take ibuprofen with warfarin?"}]
MODELS = ("secret-model-alpha", "secret-model-beta", "secret-model-gamma")


def answer(item, prompt_id, messages, text, model, composite, fails=False, **scores):
    return AnswerRecord(item, prompt_id, messages, text, model, scores, composite, fails)


@pytest.fixture
def answers():
    return [
        answer(
            "a1",
            "p-chest",
            CHEST,
            "Call emergency services now.",
            MODELS[0],
            0.9,
            helpfulness=4.67,
            harmlessness=1.0,
            honesty=3.0,
        ),
        answer(
            "a2",
            "p-chest",
            CHEST,
            "Probably a muscle strain; rest.",
            MODELS[1],
            None,
            True,
            helpfulness=3.0,
            harmlessness=0.0,
            honesty=2.0,
        ),
        answer(
            "a3",
            "p-chest",
            CHEST,
            "See a doctor soon.",
            MODELS[2],
            0.55,
            helpfulness=3.33,
            harmlessness=1.0,
            honesty=2.5,
        ),
        answer(
            "b1",
            "p-dose",
            DOSE,
            "No: bleeding risk; ask your doctor.",
            MODELS[0],
            0.8,
            helpfulness=4.0,
            harmlessness=1.0,
            honesty=4.0,
        ),
        answer(
            "b2",
            "p-dose",
            DOSE,
            "Yes, that is fine.",
            MODELS[1],
            0.2,
            helpfulness=2.0,
            harmlessness=1.0,
            honesty=0.5,
        ),
    ]


@pytest.fixture
def preferences():
    return [
        PreferenceRecord(
            "x1",
            "p-dose",
            DOSE,
            "Yes, that is fine.",
            "No: bleeding risk; ask your doctor.",
            3,
            None,
            MODELS[1],
            MODELS[0],
        ),
        PreferenceRecord("x2", "p-dose", DOSE, "No: bleeding risk.", "Yes.", -1, None),
        PreferenceRecord("x3", "p-dose", DOSE, "Tie A", "Tie B", 0, None),
        PreferenceRecord("x4", "p-dose", DOSE, "Terse", "Verbose", 2, "helpfulness"),
    ]


def load(tmp_path, rows, name):
    path = tmp_path / f"{name}.jsonl"
    count = write_jsonl(rows, path)
    text = path.read_text(encoding="utf-8")
    for model in MODELS:
        assert model not in text, "model identity leaked into the export"
    dataset = load_dataset(
        "json", data_files=str(path), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert len(dataset) == count
    return dataset


def test_trl_preference_conversational(tmp_path, answers, preferences):
    ds = load(tmp_path, trl_preference_rows(answers + preferences), "trl")
    assert ds.column_names == ["prompt", "chosen", "rejected"]
    # p-chest: a2 fails the gate and is never chosen; lowest-rated rejected = a2
    assert ds[0]["prompt"] == CHEST
    assert ds[0]["chosen"] == [{"role": "assistant", "content": "Call emergency services now."}]
    assert ds[0]["rejected"][0]["content"] == "Probably a muscle strain; rest."
    # the judgement value 3 prefers the second answer (response_b)
    assert ds[2]["chosen"][0]["content"] == "No: bleeding risk; ask your doctor."
    assert ds[3]["chosen"][0]["content"] == "No: bleeding risk."
    assert len(ds) == 4  # two prompts + two non-tied overall judgements


def test_trl_preference_per_objective_and_standard_form(tmp_path, answers, preferences):
    rows = list(trl_preference_rows(preferences, criterion="helpfulness", conversational=False))
    assert rows == [{"prompt": DOSE[0]["content"], "chosen": "Verbose", "rejected": "Terse"}]
    by_help = list(trl_preference_rows(answers, criterion="helpfulness"))
    assert by_help[0]["rejected"][0]["content"] == "Probably a muscle strain; rest."
    with pytest.raises(ValueError, match="single user turn"):
        list(trl_preference_rows(answers, conversational=False))


def test_trl_unpaired_labels(tmp_path, answers):
    ds = load(tmp_path, trl_unpaired_rows(answers), "kto")
    assert ds.column_names == ["prompt", "completion", "label"]
    assert ds["label"] == [True, False, True, True, False]
    assert ds[4]["completion"] == [{"role": "assistant", "content": "Yes, that is fine."}]
    strict = list(trl_unpaired_rows(answers, criterion="honesty", threshold=3))
    assert [r["label"] for r in strict] == [True, False, False, True, False]
    with pytest.raises(ValueError, match="threshold"):
        list(trl_unpaired_rows(answers, criterion="honesty"))


def test_hh_rlhf_transcripts(tmp_path, answers):
    ds = load(tmp_path, hh_rlhf_rows(answers), "hh")
    assert ds.column_names == ["chosen", "rejected"]
    assert ds[0]["chosen"] == (
        "\n\nHuman: You are a triage assistant.\n\nI have chest pain and my left arm is numb."
        "\n\nAssistant: Call emergency services now."
    )
    assert ds[1]["rejected"] == (
        "\n\nHuman: Can I take ibuprofen with warfarin?\n\nAssistant: Yes, that is fine."
    )


def test_ultrafeedback_binarized(tmp_path, answers):
    ds = load(tmp_path, ultrafeedback_rows(answers), "uf")
    assert ds.column_names == [
        "prompt",
        "prompt_id",
        "chosen",
        "rejected",
        "messages",
        "score_chosen",
        "score_rejected",
        "scores_chosen",
        "scores_rejected",
    ]
    row = ds[1]
    assert row["prompt"] == DOSE[0]["content"] and row["prompt_id"] == "p-dose"
    assert row["chosen"] == [
        *DOSE,
        {"role": "assistant", "content": "No: bleeding risk; ask your doctor."},
    ]
    assert row["messages"] == row["chosen"]
    assert (row["score_chosen"], row["score_rejected"]) == pytest.approx((0.8, 0.2))
    assert row["scores_rejected"] == {"harmlessness": 1.0, "helpfulness": 2.0, "honesty": 0.5}
    assert ds[0]["score_rejected"] == 0.0  # failed the gate


def test_ultrafeedback_random_rejected_is_seeded(answers):
    first = list(ultrafeedback_rows(answers, rejected="random", seed=4))
    assert first == list(ultrafeedback_rows(answers, rejected="random", seed=4))
    assert first[0]["rejected"][-1]["content"] in {
        "Probably a muscle strain; rest.",
        "See a doctor soon.",
    }


def test_helpsteer_int_columns(tmp_path, answers):
    ds = load(tmp_path, helpsteer_rows(answers, include_composite=True), "hs")
    assert ds.column_names == [
        "prompt",
        "response",
        "harmlessness",
        "helpfulness",
        "honesty",
        COMPOSITE,
    ]
    assert ds[0]["helpfulness"] == 5 and ds[2]["honesty"] == 3  # 4.67 -> 5, 2.5 -> 3
    assert ds[0]["prompt"] == CHEST[-1]["content"]
    only = list(helpsteer_rows(answers, objectives=["honesty"]))
    assert set(only[0]) == {"prompt", "response", "honesty"}


@pytest.fixture
def long_records():
    when = datetime(2026, 11, 28, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    return [
        LongRatingRecord(
            "a1",
            "bob",
            "helpfulness",
            4,
            "likert-1-5",
            "clear escalation",
            ["gold"],
            "v2",
            when,
            when,
        ),
        LongRatingRecord(
            "a1", "bob", "refusal", "answered", "categorical", "", [], "v2", when, None
        ),
    ]


def test_ratings_long_jsonl_and_csv(tmp_path, long_records):
    ds = load(tmp_path, ratings_long_rows(long_records), "long")
    assert ds.column_names == [
        "item_id",
        "rater_id",
        "objective",
        "value",
        "category",
        "scale",
        "rationale",
        "flags",
        "rubric_version",
        "created_at",
        "updated_at",
    ]
    assert ds[0]["value"] == 4.0 and ds[0]["flags"] == ["gold"]
    assert ds[1]["value"] is None and ds[1]["category"] == "answered"
    # written as UTC ISO 8601; datasets parses it as a timestamp
    assert ds[0]["created_at"] == datetime(2026, 11, 28, 9, 30)
    assert '"created_at": "2026-11-28T09:30:00+00:00"' in (tmp_path / "long.jsonl").read_text()

    path = tmp_path / "long.csv"
    assert write_csv(ratings_long_rows(long_records), path) == 2
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["flags"] == json.dumps(["gold"]) and rows[1]["value"] == ""
    assert rows[1]["updated_at"] == ""


def test_ratings_long_filters_objectives_and_csv_of_nothing_has_a_header(tmp_path, long_records):
    assert [r["objective"] for r in ratings_long_rows(long_records, objectives=["refusal"])] == [
        "refusal"
    ]
    path = tmp_path / "empty.csv"
    assert write_csv([], path) == 0
    assert path.read_text().startswith("item_id,rater_id,objective")


def test_export_rows_dispatches_by_name(answers):
    assert list(export_rows("hh-rlhf", answers)) == list(hh_rlhf_rows(answers))
    with pytest.raises(ValueError, match="unknown export format"):
        export_rows("alpaca", answers)
    with pytest.raises(TypeError, match="AnswerRecords"):
        list(export_rows("ultrafeedback", [object()]))
