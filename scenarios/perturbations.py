"""PromptBench-style prompt perturbations, offline and seeded, and the drop rate.

Four levels (Zhu et al., PromptBench, 2023): character (typos, swaps,
homoglyphs), word (synonyms), sentence (appended distractors) and semantic
(paraphrase, only with a paraphrase function supplied by the runs engine).
Each function takes the text and a ``random.Random`` and returns the new text
and a list of the changes made, so a variant records exactly what differs.
"""

from __future__ import annotations

import random
import re

from scenarios.checks.textutil import cjk_ratio
from scenarios.perturbation_data import (
    EN_DISTRACTORS,
    EN_SYNONYMS,
    HOMOGLYPHS,
    KEYBOARD_NEIGHBOURS,
    ZH_DISTRACTORS,
    ZH_HOMOPHONES,
    ZH_NOISE,
    ZH_SYNONYMS,
)

_EN_WORD = re.compile(r"[A-Za-z]{4,}")
_CJK_CHAR = re.compile(r"[\u4e00-\u9fff]")


def is_chinese(text: str) -> bool:
    return cjk_ratio(text) > 0.2


def _count(n: int, rate: float) -> int:
    return min(n, max(1, round(n * rate))) if n else 0


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(edits, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _typo(word: str, rng: random.Random) -> tuple[str, str]:
    i = rng.randrange(1, len(word) - 1)
    ops = ["swap", "delete", "insert"]
    if word[i].lower() in HOMOGLYPHS:
        ops.append("homoglyph")
    op = rng.choice(ops)
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:], op
    if op == "delete":
        return word[:i] + word[i + 1:], op
    if op == "insert":
        near = KEYBOARD_NEIGHBOURS.get(word[i].lower(), "e")
        return word[:i] + rng.choice(near) + word[i:], op
    return word[:i] + HOMOGLYPHS[word[i].lower()] + word[i + 1:], op


def perturb_char(text: str, rng: random.Random, rate: float = 0.1) -> tuple[str, list[dict]]:
    """Typos in about ``rate`` of the words (English) or characters (Chinese).

    English: adjacent swap, deletion, keyboard-neighbour insertion or a Cyrillic
    homoglyph inside words of four letters or more. Chinese: a near-homophone
    substitution (的/地, 在/再, ...), a swap of two adjacent characters, or
    inserted punctuation.
    """
    edits, changes = [], []
    if is_chinese(text):
        positions = [m.start() for m in _CJK_CHAR.finditer(text)]
        touched: set[int] = set()
        for pos in sorted(rng.sample(positions, _count(len(positions), rate))):
            if pos in touched or pos - 1 in touched:
                continue
            ch = text[pos]
            nxt = text[pos + 1] if pos + 1 < len(text) else ""
            ops = ["noise"] + (["homophone"] if ch in ZH_HOMOPHONES else []) + \
                  (["swap"] if _CJK_CHAR.match(nxt) else [])
            op = rng.choice(ops)
            if op == "homophone":
                edits.append((pos, pos + 1, ZH_HOMOPHONES[ch]))
                changes.append({"op": op, "at": pos, "from": ch, "to": ZH_HOMOPHONES[ch]})
            elif op == "swap":
                edits.append((pos, pos + 2, nxt + ch))
                touched.add(pos + 1)
                changes.append({"op": op, "at": pos, "from": ch + nxt, "to": nxt + ch})
            else:
                noise = rng.choice(ZH_NOISE)
                edits.append((pos, pos, noise))
                changes.append({"op": op, "at": pos, "from": "", "to": noise})
            touched.add(pos)
        return _apply(text, edits), changes
    words = list(_EN_WORD.finditer(text))
    for m in sorted(rng.sample(words, _count(len(words), rate)), key=lambda m: m.start()):
        new, op = _typo(m.group(0), rng)
        edits.append((m.start(), m.end(), new))
        changes.append({"op": op, "at": m.start(), "from": m.group(0), "to": new})
    return _apply(text, edits), changes


def _match_case(original: str, replacement: str) -> str:
    if original.isupper() and len(original) > 1:
        return replacement.upper()
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def perturb_word(text: str, rng: random.Random, rate: float = 0.5) -> tuple[str, list[dict]]:
    """Replace about ``rate`` of the words found in the built-in synonym table.

    English entries match whole words, case-insensitively, keeping the
    capitalisation; Chinese entries match as substrings, longest first.
    Returns no changes when no table word occurs.
    """
    table = ZH_SYNONYMS if is_chinese(text) else EN_SYNONYMS
    candidates: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for key in sorted(table, key=len, reverse=True):
        pattern = re.escape(key) if is_chinese(key) else rf"\b{re.escape(key)}\b"
        for m in re.finditer(pattern, text, re.IGNORECASE):
            if not any(m.start() < e and s < m.end() for s, e in taken):
                taken.append((m.start(), m.end()))
                candidates.append((m.start(), m.end(), key))
    candidates.sort()
    chosen = sorted(rng.sample(candidates, _count(len(candidates), rate)))
    edits, changes = [], []
    for start, end, key in chosen:
        new = _match_case(text[start:end], rng.choice(table[key]))
        edits.append((start, end, new))
        changes.append({"op": "synonym", "at": start, "from": text[start:end], "to": new})
    return _apply(text, edits), changes


def perturb_sentence(text: str, rng: random.Random, count: int = 1) -> tuple[str, list[dict]]:
    """Append ``count`` distractor sentences (StressTest / CheckList style) to the text."""
    pool = ZH_DISTRACTORS if is_chinese(text) else EN_DISTRACTORS
    added = rng.sample(pool, min(count, len(pool)))
    sep = "" if is_chinese(text) else " "
    new = text.rstrip() + "".join(sep + s for s in added)
    return new, [{"op": "distractor", "at": len(text.rstrip()), "from": "", "to": s} for s in added]


def pdr(clean_score: float, perturbed_score: float) -> float | None:
    """Performance drop rate, PDR = 1 - perturbed / clean (PromptBench).

    Positive when the perturbation hurt, negative when it helped; None when the
    clean score is 0 (the ratio is undefined).
    """
    if clean_score == 0:
        return None
    return 1 - perturbed_score / clean_score
