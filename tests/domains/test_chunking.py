"""Chunking text and Markdown: headings, overlap, sentence boundaries, CJK."""

import pytest

from domains.chunking import sections, size, split_text

LONG = " ".join(f"Sentence {i} says something about dosing rules for adults." for i in range(40))


def test_each_heading_section_becomes_its_own_chunks_with_its_path():
    chunks = split_text("# Guide\nIntro.\n\n## Adults\nTake 1 g.\n\n### Elderly\nTake less.\n"
                        "\n## Children\nBy weight.")
    assert chunks == ["Guide\nIntro.", "Guide › Adults\nTake 1 g.",
                      "Guide › Adults › Elderly\nTake less.", "Guide › Children\nBy weight."]


def test_hashes_inside_code_fences_are_not_headings():
    found = sections("# Real\n```\n# not a heading\n```\ntext")
    assert [s.headings for s in found] == [("Real",)]
    assert "# not a heading" in found[0].body


def test_long_sections_are_split_at_sentences_within_the_limit_and_overlap():
    chunks = split_text(f"# Adults\n{LONG}", max_size=300, overlap=80)
    assert len(chunks) > 3
    assert all(size(c) <= 300 for c in chunks)
    bodies = [c.split("\n", 1)[1] for c in chunks]
    assert all(b.startswith("Sentence") and b.endswith(".") for b in bodies)
    for previous, following in zip(bodies, bodies[1:], strict=False):
        last_sentence = previous.rsplit("Sentence", 1)[1]
        assert following.startswith("Sentence" + last_sentence)  # the overlap
    joined = " ".join(bodies)
    for i in range(40):
        assert f"Sentence {i} says" in joined


def test_chinese_text_is_split_at_chinese_sentence_ends_and_counts_double():
    text = "".join(f"第{i}条：布洛芬成人每次200到400毫克，每日不超过1200毫克。" for i in range(30))
    chunks = split_text(text, max_size=200, overlap=60)
    assert all(size(c) <= 200 for c in chunks)
    assert all(c.endswith("。") for c in chunks)
    assert " " not in "".join(chunks)  # no spaces are invented between Chinese sentences
    assert "第0条" in chunks[0] and "第29条" in chunks[-1]


def test_a_sentence_longer_than_a_chunk_is_cut():
    chunks = split_text("word " * 500, max_size=200, overlap=20)
    assert all(size(c) <= 200 for c in chunks)
    assert sum(c.count("word") for c in chunks) >= 500


def test_plain_text_without_headings_and_empty_text():
    assert split_text("Just one line.") == ["Just one line."]
    assert split_text("   \n\n ") == []


def test_overlap_must_be_smaller_than_the_chunk():
    with pytest.raises(ValueError):
        split_text("x", max_size=100, overlap=100)
