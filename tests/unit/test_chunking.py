"""Chunking: exact offsets, size limits, sentence/paragraph boundaries, overlap, metadata."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.ingest.article import Article
from rag.ingest.chunking import (
    MAX_TITLE_TOKENS,
    Chunker,
    chunk_id,
    default_token_counter,
    embedding_text,
    published_int,
    split_text,
)
from rag.text import estimate_word_pieces, sentence_spans

pytestmark = pytest.mark.unit


def words(text: str) -> int:
    """A predictable token counter for tests: one token per whitespace-separated word."""
    return len(text.split())


def paragraph(n: int, sentences: int = 5, length: int = 9) -> str:
    return " ".join(
        f"Paragraph {n} sentence {i} " + " ".join(["word"] * (length - 4)) + "."
        for i in range(sentences)
    )


def check_invariants(text: str, chunks: list, budget: int) -> None:
    assert chunks, "no chunks"
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.text == text[c.start : c.end]
        assert c.text == c.text.strip() and c.text
        assert c.tokens <= budget
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    covered = [False] * len(text)
    for c in chunks:
        covered[c.start : c.end] = [True] * (c.end - c.start)
    missing = [ch for ch, ok in zip(text, covered, strict=True) if not ok and not ch.isspace()]
    assert not missing, f"text not covered: {''.join(missing)[:80]!r}"


def test_offsets_exact_and_budget_respected() -> None:
    text = "\n\n".join(paragraph(n) for n in range(12))
    chunks = Chunker(40, 8, count_tokens=words).split(text)
    check_invariants(text, chunks, 40)
    assert len(chunks) > 3


def test_chunks_end_on_sentence_boundaries() -> None:
    text = " ".join(f"Sentence {i} has exactly six words." for i in range(40))
    chunks = Chunker(30, 0, count_tokens=words).split(text)
    check_invariants(text, chunks, 30)
    for c in chunks:
        assert c.text.startswith("Sentence") and c.text.endswith("words.")
    assert all(c.tokens == 30 for c in chunks[:-1])  # five whole sentences each


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [paragraph(n, sentences=3, length=8) for n in range(6)]  # 24 words each
    text = "\n\n".join(paragraphs)
    chunks = Chunker(60, 0, count_tokens=words).split(text)
    check_invariants(text, chunks, 60)
    for c in chunks:
        assert c.text.startswith("Paragraph") and c.text.endswith(".")
        assert all(p in paragraphs for p in c.text.split("\n\n")), "a paragraph was cut"


def test_overlap_repeats_trailing_sentences() -> None:
    text = " ".join(f"Sentence {i} has exactly six words." for i in range(40))
    chunks = Chunker(30, 12, count_tokens=words).split(text)
    check_invariants(text, chunks, 30)
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end, "neighbouring chunks must overlap"
        shared = text[nxt.start : prev.end]
        assert words(shared) <= 12
        assert shared.startswith("Sentence")  # whole sentences


def test_overlap_falls_back_to_trailing_words_of_a_long_sentence() -> None:
    text = " ".join(f"Long sentence {i} " + "filler " * 20 + "end." for i in range(6))
    chunks = Chunker(30, 8, count_tokens=words).split(text)
    check_invariants(text, chunks, 30)
    overlaps = [words(text[n.start : p.end]) for p, n in itertools.pairwise(chunks)]
    assert all(0 < o <= 8 for o in overlaps)


def test_long_sentence_is_split_between_words() -> None:
    text = "Start " + " ".join(f"w{i}" for i in range(500)) + " end"
    chunks = Chunker(50, 10, count_tokens=words).split(text)
    check_invariants(text, chunks, 50)
    assert all(re.match(r"^\S", c.text) and re.search(r"\S$", c.text) for c in chunks)
    ends = {c.end for c in chunks}
    assert all(e == len(text) or text[e] == " " for e in ends)  # never inside a word


def test_giant_word_is_split_by_characters() -> None:
    text = "Intro sentence here. " + "x" * 5000 + " Outro."
    chunks = Chunker(64, 8, count_tokens=estimate_tokens_chars).split(text)
    check_invariants(text, chunks, 64)


def estimate_tokens_chars(text: str) -> int:
    return (len(text) + 3) // 4


def test_short_text_is_one_chunk() -> None:
    chunks = split_text("Just one line.", 180, 30, count_tokens=words)
    assert [(c.start, c.end, c.text) for c in chunks] == [(0, 14, "Just one line.")]


def test_heading_opens_the_next_chunk() -> None:
    text = paragraph(0, 4, 9) + "\n\nReactions from the harbour\n\n" + paragraph(1, 4, 9)
    chunks = Chunker(40, 0, count_tokens=words).split(text)
    check_invariants(text, chunks, 40)
    assert not any(c.text.endswith("Reactions from the harbour") for c in chunks)
    assert any(c.text.startswith("Reactions from the harbour") for c in chunks)


def test_sentence_spans_handle_abbreviations_and_initials() -> None:
    text = (
        "U.S. Vice President J. D. Vance met Mr. Zelenskyy on Feb. 14 in Munich. "
        "They spoke for an hour! Was it useful? Officials said yes... Then they left."
    )
    spans = [text[s:e] for s, e in sentence_spans(text)]
    assert spans == [
        "U.S. Vice President J. D. Vance met Mr. Zelenskyy on Feb. 14 in Munich.",
        "They spoke for an hour!",
        "Was it useful?",
        "Officials said yes...",
        "Then they left.",
    ]


def test_sentence_spans_do_not_split_before_lowercase() -> None:
    assert len(sentence_spans("The rate is 3.5 percent. e.g. not split here. Next one.")) == 2


def test_default_counter_uses_the_embedder_word_pieces() -> None:
    count = default_token_counter()
    assert count("Ceasefire talks resume") == 3
    long_text = "word " * 1000
    assert count(long_text) == 1000  # no truncation at 256


def test_real_tokenizer_chunks_fit_the_model() -> None:
    text = "\n\n".join(
        "The Norvanian Reserve Bank lowered its policy rate by a quarter point to 3.75%, "
        f"its {n}th cut, while unemployment rose to 5.1% and the mark weakened." * 3
        for n in range(20)
    )
    article = Article.create(title="Reserve Bank cuts rates again", text=text)
    chunker = Chunker(180, 30)
    chunks = chunker.chunk_article(article)
    count = default_token_counter()
    for c in chunks:
        assert count(c.text) <= 180
        assert count(c.embed_text) + 2 <= 256  # [CLS] and [SEP]


def test_long_title_shrinks_the_budget_and_is_cut_in_the_prefix() -> None:
    title = " ".join(["Headline"] * 120)
    article = Article.create(title=title, text=paragraph(0, 40, 9))
    chunker = Chunker(180, 30, count_tokens=words)
    chunks = chunker.chunk_article(article)
    prefix = chunks[0].embed_text.split("\n")[0]
    assert words(prefix) == MAX_TITLE_TOKENS
    for c in chunks:
        assert words(c.embed_text) + 2 <= 256


def test_chunk_article_ids_metadata_and_embedded_text() -> None:
    article = Article.create(
        title="Ferry times change",
        text="\n\n".join(paragraph(n) for n in range(8)),
        outlet="Harbor Daily",
        url="https://harbor.example/ferry",
        published="2025-03-01",
    )
    chunks = Chunker(40, 8, count_tokens=words).chunk_article(article, version=3)
    assert [c.id for c in chunks] == [chunk_id(article.id, 3, i) for i in range(len(chunks))]
    for i, c in enumerate(chunks):
        meta = c.metadata
        assert set(meta) == {
            "article_id",
            "chunk_index",
            "start",
            "end",
            "title",
            "source",
            "url",
            "published",
            "published_int",
            "version",
        }
        assert meta["chunk_index"] == i and meta["version"] == 3
        assert article.text[meta["start"] : meta["end"]] == c.text
        assert (meta["source"], meta["url"], meta["published"], meta["published_int"]) == (
            "Harbor Daily",
            "https://harbor.example/ferry",
            "2025-03-01",
            20250301,
        )
        assert c.embed_text == embedding_text("Ferry times change", c.text)
        assert c.embed_text == "Ferry times change\n" + c.text


def test_unknown_metadata_is_empty_not_none() -> None:
    article = Article.create(title="T", text="Body text here.")
    meta = Chunker(count_tokens=words).chunk_article(article)[0].metadata
    assert (meta["source"], meta["url"], meta["published"], meta["published_int"]) == (
        "",
        "",
        "",
        0,
    )
    assert published_int(None) == 0


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        Chunker(30, 30)


def test_estimate_is_an_overestimate_of_words() -> None:
    assert estimate_word_pieces("one two three") >= 3


_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789é", min_size=1, max_size=12)
_SENTENCE = st.builds(
    lambda ws, end: " ".join(ws) + end,
    st.lists(_WORD, min_size=1, max_size=30),
    st.sampled_from([".", "!", "?", "", "...", '."']),
)
_PARAGRAPH = st.builds(" ".join, st.lists(_SENTENCE, min_size=1, max_size=8))
_TEXT = st.builds(
    lambda ps, sep: sep.join(ps),
    st.lists(_PARAGRAPH, min_size=1, max_size=8),
    st.sampled_from(["\n\n", "\n", " ", "\n\n\n"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_TEXT,
    budget=st.integers(min_value=5, max_value=60),
    overlap_ratio=st.floats(min_value=0, max_value=0.9),
)
def test_property_offsets_budget_coverage(text: str, budget: int, overlap_ratio: float) -> None:
    overlap = min(int(budget * overlap_ratio), budget - 1)
    chunks = Chunker(budget, overlap, count_tokens=words).split(text)
    check_invariants(text, chunks, budget)
