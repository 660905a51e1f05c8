"""Small text helpers shared by the checks: CJK detection, sentences, negation."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SENTENCE_END = re.compile(r"(?:[.!?;](?=\s|$)|[。！？；\n])+")
_NEGATION_EN = re.compile(
    r"\b(?:no|not|never|don't|do not|doesn't|does not|didn't|cannot|can't|can not|won't|"
    r"shouldn't|should not|must not|mustn't|avoid|avoiding|nothing|neither|nor|without|isn't|"
    r"aren't|refuse|against|illegal|unsafe)\b|n't\b",
    re.IGNORECASE,
)
_NEGATION_ZH = re.compile(r"不|没有|没|无法|切勿|禁止|请勿|别|勿|避免|严禁|绝不|并非|非法|违法")
_WARNING = re.compile(
    r"\b(?:dangerous|illegal|unlawful|unsafe|scam|scams|fraud|fraudulent|red flag|crime|"
    r"never|don't|do not)\b|危险|违法|违反|诈骗|骗局|非法|警惕|切勿|不要|禁止",
    re.IGNORECASE,
)
_EN_WINDOW = 60
_ZH_WINDOW = 14


def has_cjk(text: str) -> bool:
    """True when the text contains Chinese characters."""
    return bool(_CJK.search(text or ""))


def cjk_ratio(text: str) -> float:
    """Share of Chinese characters among the non-space characters of ``text``."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _CJK.match(c)) / len(chars)


def sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    """Start and end offsets of the sentence that contains offset ``pos``."""
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    m = _SENTENCE_END.search(text, pos)
    end = m.start() if m else len(text)
    return start, end


def negated(text: str, start: int) -> bool:
    """True when a negation cue precedes offset ``start`` in the same sentence, nearby.

    "Never text while driving" or "不存在稳赚不赔的投资" are warnings, not advice:
    checks that look for unsafe advice skip matches this returns True for.
    """
    sentence_start, _ = sentence_bounds(text, start)
    if _CJK.match(text[start:start + 1] or " "):
        window = text[max(sentence_start, start - _ZH_WINDOW):start]
        return bool(_NEGATION_ZH.search(window))
    window = text[max(sentence_start, start - _EN_WINDOW):start]
    return bool(_NEGATION_EN.search(window) or _NEGATION_ZH.search(window))


def in_warning(text: str, start: int) -> bool:
    """True when the sentence around ``start`` is a warning ("... is dangerous and illegal").

    Checks that look for unsafe instructions use it with ``negated``: a
    sentence that calls the act dangerous, illegal or a scam is not advice to
    do it. Red-flag detection does not use it (a user may call a symptom
    dangerous).
    """
    sentence_start, sentence_end = sentence_bounds(text, start)
    return bool(_WARNING.search(text[sentence_start:sentence_end]))


def compile_all(patterns: Iterable[str]) -> list[re.Pattern]:
    """Compile patterns case-insensitively (they are data, written in the domain modules)."""
    return [re.compile(p, re.IGNORECASE) for p in patterns]


def find_spans(text: str, patterns: Iterable[re.Pattern], *, skip_negated: bool = False,
               skip_warnings: bool = False, **extra) -> list[dict]:
    """All non-overlapping matches of the patterns, in order, as evidence spans.

    ``skip_negated`` drops matches ``negated`` is true for; ``skip_warnings``
    drops matches in a sentence that ``in_warning`` calls a warning.
    """
    found: list[dict] = []
    taken: list[tuple[int, int]] = []
    for pattern in patterns:
        for m in pattern.finditer(text):
            if m.start() == m.end():
                continue
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if skip_negated and negated(text, m.start()):
                continue
            if skip_warnings and in_warning(text, m.start()):
                continue
            taken.append((m.start(), m.end()))
            found.append({"start": m.start(), "end": m.end(), "text": m.group(0), **extra})
    return sorted(found, key=lambda s: s["start"])
