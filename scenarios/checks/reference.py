"""Reference-answer metrics: ``token_f1``, ``exact_match``, ``rouge_l``.

English text is scored on words: SQuAD normalisation (lower case, no
punctuation, no articles) for token F1 and exact match, and the maintained
``rouge-score`` package (Porter stemming) for ROUGE-L. Chinese has no spaces
between words and ``rouge-score``'s tokenizer drops non-ASCII characters, so
Chinese text is scored on characters, as is usual for Chinese reading
comprehension (CMRC 2018) and summarisation (LCSTS) evaluations: char F1, and
ROUGE-L F from the longest common subsequence of characters. A reference
containing Chinese selects the character metrics.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from functools import cache

from rouge_score import rouge_scorer

from scenarios.checks.base import CheckContext, Outcome, skipped
from scenarios.checks.registry import register_check
from scenarios.checks.textutil import has_cjk

_ARTICLES = re.compile(r"\b(a|an|the)\b")


def references_of(spec: dict, turn: dict) -> list[str]:
    """The reference answers a metric compares with: the spec's, else the turn's."""
    ref = spec.get("reference", turn.get("reference"))
    if ref is None:
        return []
    return [ref] if isinstance(ref, str) else [r for r in ref if r]


def normalize_en(text: str) -> str:
    """SQuAD answer normalisation: lower case, drop punctuation and articles, squeeze spaces."""
    text = "".join(ch for ch in text.lower() if ch not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def zh_chars(text: str) -> list[str]:
    """The characters scored for Chinese: everything except whitespace and punctuation."""
    return [c for c in text if not c.isspace() and not unicodedata.category(c).startswith("P")
            and c not in string.punctuation]


def _units(text: str, chinese: bool) -> list[str]:
    return zh_chars(text.lower()) if chinese else normalize_en(text).split()


def _f1(pred: list[str], ref: list[str]) -> float:
    common = sum((Counter(pred) & Counter(ref)).values())
    if not pred or not ref or not common:
        return float(pred == ref)
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, reference: str) -> float:
    """SQuAD token F1 (characters for a Chinese reference)."""
    chinese = has_cjk(reference)
    return _f1(_units(prediction, chinese), _units(reference, chinese))


def exact_match(prediction: str, reference: str) -> float:
    """1.0 when the normalised texts are equal, else 0.0."""
    chinese = has_cjk(reference)
    return float(_units(prediction, chinese) == _units(reference, chinese))


def lcs_length(a: list[str] | str, b: list[str] | str) -> int:
    """Length of the longest common subsequence, by the bit-parallel method (Hyyrö 2004)."""
    if not a or not b:
        return 0
    masks: dict[str, int] = {}
    for i, item in enumerate(a):
        masks[item] = masks.get(item, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for item in b:
        u = v & masks.get(item, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def char_rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 on characters (punctuation and spaces removed)."""
    pred, ref = zh_chars(prediction.lower()), zh_chars(reference.lower())
    lcs = lcs_length(pred, ref)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(pred), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


@cache
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1: ``rouge-score`` for English, characters for a Chinese reference."""
    if has_cjk(reference):
        return char_rouge_l(prediction, reference)
    return _scorer().score(target=reference, prediction=prediction)["rougeL"].fmeasure


_METRICS = {"token_f1": (token_f1, 0.5), "exact_match": (exact_match, 1.0),
            "rouge_l": (rouge_l, 0.4)}
_PARAMS = {
    "min": {"type": "number", "minimum": 0, "maximum": 1},
    "reference": {"type": ["string", "array"], "items": {"type": "string", "minLength": 1},
                  "minLength": 1, "minItems": 1},
}


def _metric_check(name: str):
    metric, default_min = _METRICS[name]

    def check(spec: dict, *, answer: str, turn: dict, scenario: dict,
              ctx: CheckContext) -> Outcome:
        refs = references_of(spec, turn)
        if not refs:
            return skipped("no reference answer")
        scores = [metric(answer or "", r) for r in refs]
        best = max(range(len(scores)), key=scores.__getitem__)
        threshold = spec.get("min", default_min)
        return Outcome(passed=scores[best] >= threshold, score=scores[best],
                       evidence={"metric": name, "value": scores[best], "min": threshold,
                                 "reference_index": best,
                                 "unit": "char" if has_cjk(refs[best]) else "word"})

    check.__name__ = f"{name}_check"
    check.__qualname__ = check.__name__
    check.__doc__ = (f"{name} of the answer against the best-matching reference is at least "
                     f"``min`` (default {default_min}). Score: the metric value in [0, 1].")
    return register_check(name, params=_PARAMS, needs_reference=True)(check)


token_f1_check = _metric_check("token_f1")
exact_match_check = _metric_check("exact_match")
rouge_l_check = _metric_check("rouge_l")
