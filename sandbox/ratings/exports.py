"""Building export files from a sandbox's ratings, in the formats of ``sandbox.ratings.formats``.

Records come from the same cut of ratings as the results (current versions, no gold,
no excluded items, adjudicated values for resolved items). Model identity never
appears in a row; raters appear as a pseudonym that is stable within the sandbox
("rater-" and ten hex digits of an HMAC of the sandbox and user ids).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from statistics import mean

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils.translation import gettext as _

from sandbox.ratings import formats
from sandbox.ratings.models import ItemKind, Rating, RatingItem, Rubric
from sandbox.ratings.results import Records
from sandbox.ratings.rubric_format import PREFERENCE_SCALE, scale_of
from sandbox.ratings.stats import answer_composite

# URL names of the formats: the six of formats.FORMATS plus the long table as CSV.
CSV_LONG = "ratings-long-csv"
EXPORT_FORMATS = (*formats.FORMATS, CSV_LONG)


def rater_pseudonym(sandbox_id: int, user_id: int) -> str:
    """A stable, non-reversible rater id for exports of one sandbox."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"{sandbox_id}:{user_id}".encode(),
                      hashlib.sha256).hexdigest()
    return f"rater-{digest[:10]}"


def prompt_id(item: RatingItem) -> str:
    """The prompt an answer responds to: scenario (variant) and turn position."""
    return f"{item.variant_id}#{item.turn_index}"


def check_criterion(rubric: Rubric | None, criterion: str) -> str:
    """Return ``criterion`` ("composite" or a numeric objective key), or raise ValidationError."""
    keys = [o["key"] for o in (rubric.objectives if rubric else [])
            if o["scale"] != "categorical"]
    if criterion == formats.COMPOSITE or criterion in keys:
        return criterion
    raise ValidationError({"criterion": [_("Choose “composite” or one of the objectives: "
                                           "%(keys)s.") % {"keys": ", ".join(keys) or "—"}]})


def _answer_records(records: Records) -> list[formats.AnswerRecord]:
    objectives = records.objectives
    by_item: dict = defaultdict(lambda: defaultdict(list))
    for r in records.singles():
        by_item[r.item_id][r.objective].append(r.value)
    items = RatingItem.objects.in_bulk(list(by_item))
    answers = []
    for item_id, values in by_item.items():
        item = items[item_id]
        scores = {}
        for o in objectives:
            got = values.get(o.key)
            if not got:
                continue
            scores[o.key] = (mean(got) if o.scale.numeric
                             else Counter(got).most_common(1)[0][0])
        composite = answer_composite(scores, objectives)
        answers.append(formats.AnswerRecord(
            item_id=str(item.pk), prompt_id=prompt_id(item),
            prompt_messages=item.prompt_messages(), response=item.answer_a,
            model_key="", scores=scores, composite=composite.value,
            fails_gate=composite.fails_gate))
    answers.sort(key=lambda a: (str(a.prompt_id), a.item_id))
    return answers


def _preference_records(records: Records) -> list[formats.PreferenceRecord]:
    prefs = records.preferences()
    items = RatingItem.objects.in_bulk({p["item_id"] for p in prefs})
    result = []
    for p in prefs:
        item = items[p["item_id"]]
        result.append(formats.PreferenceRecord(
            pair_id=str(item.pk), prompt_id=prompt_id(item),
            prompt_messages=item.prompt_messages(), response_a=item.answer_a,
            response_b=item.answer_b, value=int(p["value"]), objective=p["objective"]))
    result.sort(key=lambda p: (str(p.prompt_id), str(p.pair_id), p.objective or ""))
    return result


def _long_records(sandbox, rubric: Rubric) -> Iterator[formats.LongRatingRecord]:
    scales = {o["key"]: o["scale"] for o in rubric.objectives}
    ratings = (Rating.objects.current()
               .filter(sandbox=sandbox, item__is_gold=False, item__excluded=False)
               .select_related("item", "rubric").order_by("item_id", "rater_id"))
    first = {(item_id, rater_id): created for item_id, rater_id, created in
             Rating.objects.filter(sandbox=sandbox).values("item_id", "rater_id").order_by()
             .annotate(first=Min("created_at")).values_list("item_id", "rater_id", "first")}
    for rating in ratings:
        for key, value in rating.values.items():
            if rating.item.kind == ItemKind.PAIR:
                objective = f"preference:{key}"
                scale = f"preference-{int(PREFERENCE_SCALE.low)}..+{int(PREFERENCE_SCALE.high)}"
            else:
                objective, scale = key, scales.get(key, "")
            yield formats.LongRatingRecord(
                item_id=str(rating.item_id), rater_id=rater_pseudonym(sandbox.pk,
                                                                      rating.rater_id),
                objective=objective, value=value, scale=scale, rationale=rating.rationale,
                flags=rating.flags, rubric_version=str(rating.rubric.version),
                created_at=first.get((rating.item_id, rating.rater_id), rating.created_at),
                updated_at=rating.created_at)


def export_rows(sandbox, format_name: str, criterion: str) -> Iterator[dict]:
    """The rows of one export (``format_name`` in EXPORT_FORMATS) for ``criterion``."""
    rubric = Rubric.objects.current_for(sandbox)
    criterion = check_criterion(rubric, criterion)
    if format_name in ("ratings-long", CSV_LONG):
        wanted = None if criterion == formats.COMPOSITE else [criterion, f"preference:{criterion}"]
        return formats.ratings_long_rows(_long_records(sandbox, rubric), objectives=wanted)
    records = Records(sandbox, rubric)
    answers = _answer_records(records)
    if format_name in ("trl-preference", "hh-rlhf"):
        return formats.export_rows(format_name, [*answers, *_preference_records(records)],
                                   criterion=criterion)
    if format_name == "trl-unpaired":
        threshold = None
        if criterion != formats.COMPOSITE:
            scale = scale_of(next(o for o in rubric.objectives if o["key"] == criterion))
            threshold = (scale.low + scale.high) / 2
        return formats.trl_unpaired_rows([*answers, *_preference_records(records)],
                                         criterion=criterion, threshold=threshold)
    if format_name == "ultrafeedback":
        return formats.ultrafeedback_rows(answers, criterion=criterion)
    if format_name == "helpsteer":
        if criterion == formats.COMPOSITE:
            return formats.helpsteer_rows(answers, include_composite=True)
        return formats.helpsteer_rows(answers, objectives=[criterion])
    raise ValidationError({"format": [_("Unknown export format; choose one of %(names)s.")
                                      % {"names": ", ".join(EXPORT_FORMATS)}]})


def jsonl_lines(rows) -> Iterator[str]:
    """One JSON object per line, UTF-8 (as ``formats.write_jsonl`` writes them)."""
    for row in rows:
        yield json.dumps(row, ensure_ascii=False) + "\n"


def csv_text(rows) -> str:
    """The long table as CSV text with a header."""
    buffer = io.StringIO()
    formats.write_csv(rows, buffer)
    return buffer.getvalue()

