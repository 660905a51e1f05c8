"""Export rated answers and preferences in the formats preference-training tools read.

Every formatter is a generator of JSON-serialisable dict rows built from the plain
records below; :func:`write_jsonl` and :func:`write_csv` write them. Every JSONL file
loads with ``datasets.load_dataset("json", data_files=...)``.

Blind data: a record's ``model_key`` (or ``model_a``/``model_b``) is used for nothing
and never appears in a row.

Choosing the winner. ``criterion`` is an objective key or :data:`COMPOSITE`. Answers to
the same ``prompt_id`` are ranked by that score; an answer that fails a gate ranks below
every passing one, scores :data:`GATE_FAILED_SCORE` on the composite, and is never
"chosen" (whatever the criterion): an unsafe answer must not become a training target.
The chosen answer is the best-rated one (the first in input order on a tie); the
rejected one is the lowest-rated (``rejected="lowest"``) or a seeded random pick among
those rated lower (``"random"``, as UltraFeedback-binarized does). Answers without a
score on the criterion are skipped. Preference records give their pair directly, for
the objective matching the criterion (:data:`COMPOSITE` selects overall judgements,
``objective=None``); ties are skipped.
"""

from __future__ import annotations

import csv
import json
import math
import random
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, Any, Literal

COMPOSITE = "composite"
GATE_FAILED_SCORE = 0.0

Message = Mapping[str, str]
Row = dict[str, Any]


@dataclass(frozen=True)
class AnswerRecord:
    """One model's answer to one prompt with its aggregated scores.

    ``prompt_messages``: the conversation before the answer, as {"role", "content"}
    dicts (roles "system", "user", "assistant"), ending with a user turn.
    ``scores``: objective key -> score on the objective's raw scale (the mean of the
    raters, as :meth:`RatingTable.item_means` gives), or a category string.
    ``composite``: the answer's composite in [0, 1] (None when incomplete or failing a
    gate); ``fails_gate``: True when a gated objective is below its floor (see
    ``sandbox.ratings.stats.answer_composite``). ``model_key`` is opaque and not exported.
    """

    item_id: Hashable
    prompt_id: Hashable
    prompt_messages: Sequence[Message]
    response: str
    model_key: str
    scores: Mapping[str, Any]
    composite: float | None = None
    fails_gate: bool = False


@dataclass(frozen=True)
class PreferenceRecord:
    """One expert's side-by-side judgement of two answers to the same prompt.

    ``value`` runs from -3 to +3; **value > 0 prefers response_b** (the second, right
    answer), < 0 prefers response_a, 0 is a tie. ``objective`` is None for an overall
    judgement. ``model_a``/``model_b`` are opaque and not exported.
    """

    pair_id: Hashable
    prompt_id: Hashable
    prompt_messages: Sequence[Message]
    response_a: str
    response_b: str
    value: int
    objective: str | None = None
    model_a: str | None = None
    model_b: str | None = None


@dataclass(frozen=True)
class LongRatingRecord:
    """One rating for the long table: one (item, rater, objective) cell.

    ``value`` is a number, or a category string for categorical scales; ``scale`` names
    the scale (e.g. "likert-1-5", "binary", "categorical"); timestamps are datetimes or
    ISO 8601 strings.
    """

    item_id: Hashable
    rater_id: Hashable
    objective: str
    value: Any
    scale: str
    rationale: str = ""
    flags: Sequence[str] = ()
    rubric_version: str = ""
    created_at: datetime | str | None = None
    updated_at: datetime | str | None = None


@dataclass(frozen=True)
class _Pair:
    prompt_id: Hashable
    prompt_messages: Sequence[Message]
    chosen: AnswerRecord | str
    rejected: AnswerRecord | str
    score_chosen: float | None = None
    score_rejected: float | None = None

    def text(self, side: Literal["chosen", "rejected"]) -> str:
        answer = getattr(self, side)
        return answer.response if isinstance(answer, AnswerRecord) else answer


def _messages(messages: Sequence[Message]) -> list[dict[str, str]]:
    result = []
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise ValueError(f"not a chat message: {message!r}")
        result.append({"role": role, "content": content})
    if not result or result[-1]["role"] != "user":
        raise ValueError("prompt_messages must end with a user turn")
    return result


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _last_user_text(messages: Sequence[Message]) -> str:
    return _messages(messages)[-1]["content"]


def _single_turn_text(messages: Sequence[Message]) -> str:
    checked = _messages(messages)
    if len(checked) != 1:
        raise ValueError(
            "the standard (string) form needs a single user turn; use conversational=True"
        )
    return checked[0]["content"]


def _score(answer: AnswerRecord, criterion: str) -> float | None:
    if criterion == COMPOSITE:
        return GATE_FAILED_SCORE if answer.fails_gate else answer.composite
    value = answer.scores.get(criterion)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _pairs_from_answers(
    answers: Iterable[AnswerRecord],
    criterion: str,
    rejected: Literal["lowest", "random"],
    seed: int,
    min_margin: float,
) -> Iterator[_Pair]:
    if rejected not in ("lowest", "random"):
        raise ValueError(f"rejected must be 'lowest' or 'random', not {rejected!r}")
    rng = random.Random(seed)
    by_prompt: dict[Hashable, list[tuple[tuple[int, float], AnswerRecord]]] = {}
    for answer in answers:
        score = _score(answer, criterion)
        if score is not None:
            key = (0 if answer.fails_gate else 1, score)
            by_prompt.setdefault(answer.prompt_id, []).append((key, answer))
    for prompt_id, ranked in by_prompt.items():
        best_key, best = max(ranked, key=lambda pair: pair[0])
        if best.fails_gate:
            continue
        lower = [
            (key, a) for key, a in ranked if key < best_key and best_key[1] - key[1] >= min_margin
        ]
        if not lower:
            continue
        if rejected == "lowest":
            worst_key, worst = min(lower, key=lambda pair: pair[0])
        else:
            worst_key, worst = rng.choice(lower)
        yield _Pair(prompt_id, best.prompt_messages, best, worst, best_key[1], worst_key[1])


def _pairs_from_preferences(
    preferences: Iterable[PreferenceRecord], criterion: str
) -> Iterator[_Pair]:
    wanted = None if criterion == COMPOSITE else criterion
    for p in preferences:
        if p.objective != wanted or p.value == 0:
            continue
        if not -3 <= p.value <= 3:
            raise ValueError(f"preference {p.pair_id!r}: value {p.value!r} is outside -3..3")
        chosen, rejected = (
            (p.response_b, p.response_a) if p.value > 0 else (p.response_a, p.response_b)
        )
        yield _Pair(p.prompt_id, p.prompt_messages, chosen, rejected)


def _pairs(
    records: Iterable[AnswerRecord | PreferenceRecord],
    criterion: str,
    rejected: Literal["lowest", "random"],
    seed: int,
    min_margin: float,
) -> Iterator[_Pair]:
    answers: list[AnswerRecord] = []
    preferences: list[PreferenceRecord] = []
    for record in records:
        if isinstance(record, AnswerRecord):
            answers.append(record)
        elif isinstance(record, PreferenceRecord):
            preferences.append(record)
        else:
            raise TypeError(f"expected AnswerRecord or PreferenceRecord, got {type(record)!r}")
    yield from _pairs_from_answers(answers, criterion, rejected, seed, min_margin)
    yield from _pairs_from_preferences(preferences, criterion)


def trl_preference_rows(
    records: Iterable[AnswerRecord | PreferenceRecord],
    *,
    criterion: str = COMPOSITE,
    conversational: bool = True,
    rejected: Literal["lowest", "random"] = "lowest",
    seed: int = 0,
    min_margin: float = 0.0,
) -> Iterator[Row]:
    """TRL preference rows (DPO, reward modelling), one per pair.

    Conversational: {"prompt": [messages], "chosen": [{"role": "assistant", "content"}],
    "rejected": [...]}; standard (``conversational=False``, single-turn prompts only):
    {"prompt": str, "chosen": str, "rejected": str}. ``min_margin``: the least score
    difference for answer-derived pairs.
    """
    for pair in _pairs(records, criterion, rejected, seed, min_margin):
        if conversational:
            yield {
                "prompt": _messages(pair.prompt_messages),
                "chosen": _assistant(pair.text("chosen")),
                "rejected": _assistant(pair.text("rejected")),
            }
        else:
            yield {
                "prompt": _single_turn_text(pair.prompt_messages),
                "chosen": pair.text("chosen"),
                "rejected": pair.text("rejected"),
            }


def trl_unpaired_rows(
    records: Iterable[AnswerRecord | PreferenceRecord],
    *,
    criterion: str = COMPOSITE,
    threshold: float | None = None,
    conversational: bool = True,
) -> Iterator[Row]:
    """TRL unpaired preference rows (KTO): {"prompt", "completion", "label": bool}.

    An answer is labelled True when its criterion score is >= ``threshold`` (default 0.5
    for the composite; required for an objective, on its raw scale) and it fails no
    gate; answers without a score are skipped. A non-tied preference gives two rows,
    True for the preferred answer and False for the other.
    """
    if threshold is None:
        if criterion != COMPOSITE:
            raise ValueError(f"give a threshold on the raw scale of objective {criterion!r}")
        threshold = 0.5
    for record in records:
        if isinstance(record, AnswerRecord):
            score = _score(record, criterion)
            if score is None:
                continue
            labelled = [
                (
                    record.prompt_messages,
                    record.response,
                    bool(score >= threshold and not record.fails_gate),
                )
            ]
        elif isinstance(record, PreferenceRecord):
            labelled = [
                (pair.prompt_messages, pair.text(side), side == "chosen")
                for pair in _pairs_from_preferences([record], criterion)
                for side in ("chosen", "rejected")
            ]
        else:
            raise TypeError(f"expected AnswerRecord or PreferenceRecord, got {type(record)!r}")
        for messages, text, label in labelled:
            if conversational:
                yield {
                    "prompt": _messages(messages),
                    "completion": _assistant(text),
                    "label": label,
                }
            else:
                yield {"prompt": _single_turn_text(messages), "completion": text, "label": label}


def _hh_transcript(messages: Sequence[Message], answer: str) -> str:
    parts: list[str] = []
    system: list[str] = []
    for message in _messages(messages):
        if message["role"] == "system":
            system.append(message["content"])
        elif message["role"] == "user":
            parts.append("\n\nHuman: " + "\n\n".join([*system, message["content"]]))
            system = []
        else:
            parts.append("\n\nAssistant: " + message["content"])
    parts.append("\n\nAssistant: " + answer)
    return "".join(parts)


def hh_rlhf_rows(
    records: Iterable[AnswerRecord | PreferenceRecord],
    *,
    criterion: str = COMPOSITE,
    rejected: Literal["lowest", "random"] = "lowest",
    seed: int = 0,
    min_margin: float = 0.0,
) -> Iterator[Row]:
    """Anthropic HH-RLHF rows: {"chosen": transcript, "rejected": transcript}.

    A transcript is "\\n\\nHuman: ...\\n\\nAssistant: ..." over the whole conversation
    ending with the answer. HH has no system role: a system message is prepended to the
    next Human turn, separated by a blank line.
    """
    for pair in _pairs(records, criterion, rejected, seed, min_margin):
        yield {
            "chosen": _hh_transcript(pair.prompt_messages, pair.text("chosen")),
            "rejected": _hh_transcript(pair.prompt_messages, pair.text("rejected")),
        }


def _all_objectives(answers: Sequence[AnswerRecord]) -> list[str]:
    return sorted({key for answer in answers for key in answer.scores})


def _numeric_or_none(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def ultrafeedback_rows(
    answers: Iterable[AnswerRecord],
    *,
    criterion: str = COMPOSITE,
    rejected: Literal["lowest", "random"] = "lowest",
    seed: int = 0,
    min_margin: float = 0.0,
) -> Iterator[Row]:
    """UltraFeedback-binarized rows, one per prompt with a pair.

    Columns: prompt (the last user turn), prompt_id (str), chosen and rejected (the full
    conversation ending with the answer, as messages), messages (= chosen),
    score_chosen and score_rejected (the criterion score), plus scores_chosen and
    scores_rejected: every numeric objective's score ({objective: float or None}, the
    same keys in every row), so the per-aspect scores survive next to the derived one.
    """
    answers = _answers_only(answers)
    keys = [k for k in _all_objectives(answers) if _numeric_objective(answers, k)]
    for pair in _pairs_from_answers(answers, criterion, rejected, seed, min_margin):
        prompt = _messages(pair.prompt_messages)
        chosen = [*prompt, *_assistant(pair.text("chosen"))]
        yield {
            "prompt": prompt[-1]["content"],
            "prompt_id": str(pair.prompt_id),
            "chosen": chosen,
            "rejected": [*prompt, *_assistant(pair.text("rejected"))],
            "messages": chosen,
            "score_chosen": pair.score_chosen,
            "score_rejected": pair.score_rejected,
            "scores_chosen": {k: _numeric_or_none(pair.chosen.scores.get(k)) for k in keys},
            "scores_rejected": {k: _numeric_or_none(pair.rejected.scores.get(k)) for k in keys},
        }


def _answers_only(records: Iterable[Any]) -> list[AnswerRecord]:
    answers = list(records)
    for record in answers:
        if not isinstance(record, AnswerRecord):
            raise TypeError(f"this format needs AnswerRecords, got {type(record)!r}")
    return answers


def _numeric_objective(answers: Sequence[AnswerRecord], key: str) -> bool:
    return all(
        _numeric_or_none(a.scores[key]) is not None or a.scores[key] is None
        for a in answers
        if key in a.scores
    )


def helpsteer_rows(
    answers: Iterable[AnswerRecord],
    *,
    objectives: Sequence[str] | None = None,
    include_composite: bool = False,
) -> Iterator[Row]:
    """HelpSteer2-like rows: {"prompt", "response", <objective>: int, ...}.

    ``prompt`` is the last user turn. ``objectives`` picks the score columns (default:
    every numeric objective present, sorted); a score is the raters' mean rounded half
    up to an int, None when missing. ``include_composite`` adds a float "composite"
    column (:data:`GATE_FAILED_SCORE` for an answer failing a gate).
    """
    answers = _answers_only(answers)
    if objectives is None:
        objectives = [k for k in _all_objectives(answers) if _numeric_objective(answers, k)]
    for answer in answers:
        row: Row = {"prompt": _last_user_text(answer.prompt_messages), "response": answer.response}
        for key in objectives:
            score = _numeric_or_none(answer.scores.get(key))
            row[key] = None if score is None else math.floor(score + 0.5)
        if include_composite:
            row[COMPOSITE] = _score(answer, COMPOSITE)
        yield row


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def ratings_long_rows(
    records: Iterable[LongRatingRecord], *, objectives: Sequence[str] | None = None
) -> Iterator[Row]:
    """The raw long table: one row per (item, rater, objective).

    Columns: item_id, rater_id, objective, value (float, None for a category),
    category (the category string, None for a number), scale, rationale, flags (list of
    str), rubric_version, created_at, updated_at (ISO 8601; aware datetimes converted to
    UTC, because ``datasets`` parses the column as timestamps and drops the offset). Ids
    are written as given when str or int, else as str. ``objectives`` keeps only those
    objective keys. The composite belongs to an answer, not to one rater, so it has no
    rows here.
    """
    wanted = set(objectives) if objectives is not None else None
    for r in records:
        if wanted is not None and r.objective not in wanted:
            continue
        number = _numeric_or_none(r.value)
        yield {
            "item_id": _jsonable(r.item_id),
            "rater_id": _jsonable(r.rater_id),
            "objective": r.objective,
            "value": number,
            "category": None if number is not None or r.value is None else str(r.value),
            "scale": r.scale,
            "rationale": r.rationale,
            "flags": [str(f) for f in r.flags],
            "rubric_version": r.rubric_version,
            "created_at": _jsonable(r.created_at),
            "updated_at": _jsonable(r.updated_at),
        }


FORMATS: dict[str, Callable[..., Iterator[Row]]] = {
    "trl-preference": trl_preference_rows,
    "trl-unpaired": trl_unpaired_rows,
    "hh-rlhf": hh_rlhf_rows,
    "ultrafeedback": ultrafeedback_rows,
    "helpsteer": helpsteer_rows,
    "ratings-long": ratings_long_rows,
}


def export_rows(format_name: str, records: Iterable[Any], **options: Any) -> Iterator[Row]:
    """Rows of ``format_name`` (a key of :data:`FORMATS`); options go to its formatter."""
    try:
        formatter = FORMATS[format_name]
    except KeyError:
        raise ValueError(
            f"unknown export format {format_name!r}; choose one of {sorted(FORMATS)}"
        ) from None
    return formatter(records, **options)


def _open(target: str | Path | IO[str], newline: str | None = None) -> tuple[IO[str], bool]:
    if isinstance(target, (str, Path)):
        return open(target, "w", encoding="utf-8", newline=newline), True
    return target, False


def write_jsonl(rows: Iterable[Row], target: str | Path | IO[str]) -> int:
    """Write one JSON object per line (UTF-8, not ASCII-escaped); return the row count."""
    stream, owned = _open(target)
    count = 0
    try:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    finally:
        if owned:
            stream.close()
    return count


def write_csv(
    rows: Iterable[Row], target: str | Path | IO[str], fieldnames: Sequence[str] | None = None
) -> int:
    """Write rows as CSV with a header; return the row count.

    ``fieldnames`` defaults to the first row's keys. Lists and dicts are written as
    JSON, None as an empty cell.
    """
    iterator = iter(rows)
    first = next(iterator, None)
    if fieldnames is None:
        fieldnames = list(first) if first is not None else list(_LONG_COLUMNS)
    stream, owned = _open(target, newline="")
    count = 0
    try:
        writer = csv.DictWriter(stream, fieldnames=fieldnames)
        writer.writeheader()
        if first is not None:
            for row in _chain(first, iterator):
                writer.writerow({k: _csv_cell(row.get(k)) for k in fieldnames})
                count += 1
    finally:
        if owned:
            stream.close()
    return count


_LONG_COLUMNS = (
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
)


def _chain(first: Row, rest: Iterator[Row]) -> Iterator[Row]:
    yield first
    yield from rest


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return value
