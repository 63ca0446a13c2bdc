"""The shared text utilities: sentences, token estimates, stop words and URL keys."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from rag.retrieval.lexical import bm25_tokenize
from rag.text import (
    canonical_url,
    estimate_llm_tokens,
    estimate_word_pieces,
    loose_url_key,
    paragraph_spans,
    sentence_spans,
    split_sentences,
    stop_words,
)

pytestmark = pytest.mark.unit


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


# --------------------------------------------------------------------------- sentences
SENTENCE_CASES = {
    "abbreviations_do_not_end_a_sentence": (
        "Mr. Vance met Dr. Lee on Feb. 14. Gen. Kellogg, Sen. Reed and Rep. Cole came too. "
        "Acme Corp. and Smith Bros. Ltd. signed, etc. Talks went on.",
        [
            "Mr. Vance met Dr. Lee on Feb. 14.",
            "Gen. Kellogg, Sen. Reed and Rep. Cole came too.",
            "Acme Corp. and Smith Bros. Ltd. signed, etc. Talks went on.",
        ],
    ),
    "initials_and_dotted_abbreviations_do_not_end_a_sentence": (
        "J. D. Vance and J.D. Vance are one man. The U.S. and U.S.A. officials met at "
        "3 p.m. Monday, a.k.a. Day One. E. coli was found. Then they left.",
        [
            "J. D. Vance and J.D. Vance are one man.",
            "The U.S. and U.S.A. officials met at 3 p.m. Monday, a.k.a. Day One.",
            "E. coli was found.",
            "Then they left.",
        ],
    ),
    "quotes_and_brackets_stay_with_their_sentence": (
        '"It moved fast," she said. He added: "Go now." (It was late.) '
        "“We will not be traded.” Officials agreed. ‘Fine.’ [Done.] Next.",
        [
            '"It moved fast," she said.',
            'He added: "Go now."',
            "(It was late.)",
            "“We will not be traded.”",
            "Officials agreed.",
            "‘Fine.’",
            "[Done.]",
            "Next.",
        ],
    ),
    "decimals_urls_and_lowercase_continuations_do_not_split": (
        "Rates rose to 3.5 percent, or 3.50 in the notes. See https://news.example/a/b.html "
        "or www.news.example/x. e.g. not here. Prices fell 2.5%. 40 people came.",
        [
            "Rates rose to 3.5 percent, or 3.50 in the notes.",
            "See https://news.example/a/b.html or www.news.example/x. e.g. not here.",
            "Prices fell 2.5%.",
            "40 people came.",
        ],
    ),
    "question_marks_exclamations_and_ellipses_end_sentences": (
        "Was it useful? Yes! Officials said yes... Then… Nothing.",
        ["Was it useful?", "Yes!", "Officials said yes...", "Then…", "Nothing."],
    ),
    "cjk_marks_end_sentences": ("会谈结束。下一步？好", ["会谈结束。", "下一步？", "好"]),
}


@pytest.mark.parametrize(("text", "expected"), SENTENCE_CASES.values(), ids=SENTENCE_CASES.keys())
def test_sentence_ends(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_spans_are_exact_offsets_without_whitespace_within_the_range() -> None:
    text = "  One here.   Two there.\nThree.  "
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == ["One here.", "Two there.", "Three."]
    assert sentence_spans(text, 13, 24) == [(14, 24)]
    assert sentence_spans("") == [] and sentence_spans("   ") == []


def test_a_long_run_of_dots_is_split_in_linear_time() -> None:
    text = "A" + "." * 200_000 + " B."
    assert len(sentence_spans(text)) == 2


def test_split_sentences_ends_sentences_at_paragraphs_and_headings() -> None:
    text = (
        "KESSLER FALLS — Rain fell. Dr. Brandt said so\n\n## Damage\nCosts rose.\n"
        "# Next\n\nA heading without a full stop\n\nLast one."
    )
    assert split_sentences(text) == [
        "KESSLER FALLS — Rain fell.",
        "Dr. Brandt said so",
        "## Damage",
        "Costs rose.",
        "# Next",
        "A heading without a full stop",
        "Last one.",
    ]
    assert split_sentences("") == [] and split_sentences("\n\n") == []


def test_paragraph_spans_split_at_blank_lines_only() -> None:
    text = "\nOne.\nStill one.\n \t\n\n  Two.  \n\n"
    assert [text[s:e] for s, e in paragraph_spans(text)] == ["One.\nStill one.", "Two."]


# --------------------------------------------------------------------------- token estimates
def test_word_pieces_count_words_and_marks_times_1_3() -> None:
    assert estimate_word_pieces("Hello, world") == 4  # 3 units x 1.3, rounded up
    assert estimate_word_pieces("one two three four five six seven eight nine ten") == 13
    assert estimate_word_pieces("") == 0


@pytest.mark.parametrize("text", ["", "x", "Vance spoke in Munich.", "a" * 35, "word " * 97])
def test_llm_tokens_of_ascii_text_are_characters_over_3_8(text: str) -> None:
    assert estimate_llm_tokens(text) == math.ceil(len(text) / 3.8)


def test_llm_tokens_count_each_character_beyond_latin_as_a_token() -> None:
    assert estimate_llm_tokens("日本語") == 3
    assert estimate_llm_tokens("Москва") == 6
    assert estimate_llm_tokens("Talks in 東京 ended") == math.ceil(15 / 3.8) + 2
    # accented Latin letters and typographic punctuation count like ASCII
    assert estimate_llm_tokens("Zelenskyy’s café — “no”") == math.ceil(24 / 3.8)
    assert estimate_llm_tokens("Frédéric Chopin…") == estimate_llm_tokens("Frederic Chopin.")


# --------------------------------------------------------------------------- stop words
def test_stop_words_are_shared_and_the_lexical_index_adds_question_words() -> None:
    words = stop_words()
    assert words is stop_words()  # loaded once
    assert {"the", "and", "of"} <= words
    assert not {"ukraine", "nato", "said"} & words
    assert bm25_tokenize("What did the articles say Hegseth said about NATO?") == [
        "hegseth",
        "nato",
    ]


def test_importing_rag_text_loads_no_third_party_package() -> None:
    code = "import sys, rag.text; print(sorted(m for m in ('bm25s', 'numpy') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- URLs
def test_canonical_url_keeps_what_identifies_the_article() -> None:
    assert canonical_url("HTTPS://News.Example:443/a?utm_source=x&id=3#top") == (
        "https://news.example/a?id=3"
    )
    assert canonical_url(" http://a.example:80 ") == "http://a.example/"
    assert canonical_url("https://a.example:8443/Path/?fbclid=z&q=") == (
        "https://a.example:8443/Path/?q="
    )
    assert canonical_url("https://a.example/x") != canonical_url("http://a.example/x")
    with pytest.raises(ValueError):
        canonical_url("http://a.example:99999/x")


def test_loose_url_key_ignores_scheme_www_port_query_and_final_slash() -> None:
    key = loose_url_key("https://news.example/x")
    assert loose_url_key("http://www.News.Example:80/x/?utm=1#top") == key == "news.example/x"
    assert loose_url_key("www.news.example:443/x") == key
    assert loose_url_key("https://news.example/X") != key  # paths keep their case
    assert loose_url_key("https://news.example/") == "news.example"
