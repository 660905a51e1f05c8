"""Splitting text and Markdown into overlapping chunks for the knowledge base.

Rules, in order:

* A Markdown heading (``#`` to ``######`` outside fenced code) starts a new
  section; a chunk never spans two sections, and each chunk begins with its
  section's heading path (``Dosing › Children``) so it reads on its own.
* Within a section, paragraphs (blank-line separated) are packed into chunks
  of at most ``max_size``; a paragraph too long for one chunk is split at
  sentence ends (``. ! ?`` followed by a space, and the Chinese ``。！？；``),
  and a sentence still too long is cut at ``max_size``.
* Consecutive chunks of one section overlap: the next chunk repeats the last
  whole sentences of the previous one, up to ``overlap``.
* Size counts a CJK character as two units and anything else as one, so a
  Chinese chunk holds about as much meaning as an English one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_SIZE = 900
OVERLAP = 150

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；])")
_CJK = re.compile(r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]")


def size(text: str) -> int:
    """Length in chunk units: a CJK character counts twice."""
    return len(text) + len(_CJK.findall(text))


def is_mostly_cjk(text: str) -> bool:
    """True when at least a fifth of the non-space characters are CJK."""
    letters = sum(1 for ch in text if not ch.isspace())
    return bool(letters) and len(_CJK.findall(text)) * 5 >= letters


@dataclass(frozen=True)
class Section:
    headings: tuple[str, ...]
    body: str


def sections(text: str) -> list[Section]:
    """The Markdown sections of ``text`` with their heading paths (plain text is one section)."""
    result: list[Section] = []
    path: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def close():
        body = "\n".join(lines).strip()
        if body:
            result.append(Section(tuple(title for _, title in path), body))
        lines.clear()

    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING.match(line)
        if match:
            close()
            level = len(match.group(1))
            path = [(lv, title) for lv, title in path if lv < level] + [(level, match.group(2))]
        else:
            lines.append(line)
    close()
    if not result and path:  # headings without any body text
        result.append(Section(tuple(title for _, title in path), ""))
    return result


def _sentences(paragraph: str, max_size: int) -> list[str]:
    pieces = [p.strip() for p in _SENTENCE_END.split(paragraph) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        while size(piece) > max_size:
            cut = _cut_point(piece, max_size)
            out.append(piece[:cut].strip())
            piece = piece[cut:].strip()
        if piece:
            out.append(piece)
    return out


def _cut_point(text: str, max_size: int) -> int:
    """The largest prefix length whose size fits ``max_size``, at a space when one is near."""
    units, cut = 0, 0
    for i, ch in enumerate(text):
        units += 2 if _CJK.match(ch) else 1
        if units > max_size:
            break
        cut = i + 1
    space = text.rfind(" ", 0, cut)
    return space if space > cut * 0.6 else max(cut, 1)


def _join(parts: list[str]) -> str:
    text = ""
    for part in parts:
        if not text:
            text = part
        elif _CJK.match(text[-1]) or _CJK.match(part[0]):
            text += part
        else:
            text += " " + part
    return text


def _pack(units: list[tuple[str, bool]], budget: int, overlap: int) -> list[str]:
    """Pack (sentence, starts_paragraph) units into chunks of at most ``budget``."""
    chunks: list[str] = []
    current: list[tuple[str, bool]] = []
    fresh = 0  # how many units of ``current`` are not repeated from the previous chunk

    def render(items):
        paragraphs: list[list[str]] = []
        for text, starts in items:
            if starts or not paragraphs:
                paragraphs.append([])
            paragraphs[-1].append(text)
        return "\n\n".join(_join(p) for p in paragraphs)

    for unit in units:
        if current and size(render([*current, unit])) > budget:
            chunks.append(render(current))
            tail: list[tuple[str, bool]] = []
            for text, _starts in reversed(current):
                if size(render([(text, True), *tail])) > overlap:
                    break
                tail.insert(0, (text, False))
            if tail:
                tail[0] = (tail[0][0], True)
            while tail and size(render([*tail, unit])) > budget:
                tail.pop(0)
            current, fresh = tail, 0
        current.append(unit)
        fresh += 1
    if current and fresh:
        chunks.append(render(current))
    return chunks


def split_text(text: str, *, max_size: int = MAX_SIZE, overlap: int = OVERLAP) -> list[str]:
    """Split ``text`` (plain or Markdown) into chunks; see the module docstring for the rules."""
    if overlap >= max_size:
        raise ValueError("overlap must be smaller than max_size")
    chunks: list[str] = []
    for section in sections(text):
        header = " › ".join(section.headings)
        budget = max(max_size - size(header) - 1, max_size // 3) if header else max_size
        units: list[tuple[str, bool]] = []
        for paragraph in re.split(r"\n\s*\n", section.body):
            paragraph = re.sub(r"[ \t]+", " ", paragraph).strip()
            for i, sentence in enumerate(_sentences(paragraph, budget)):
                units.append((sentence, i == 0))
        bodies = _pack(units, budget, overlap) or [""]
        for body in bodies:
            chunk = f"{header}\n{body}".strip() if header else body
            if chunk:
                chunks.append(chunk)
    return chunks
