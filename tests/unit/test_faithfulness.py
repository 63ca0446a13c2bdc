"""The cheap faithfulness check on crafted summaries (numbers, quotes, names)."""

from __future__ import annotations

import pytest

from rag.summaries.faithfulness import (
    SourceIndex,
    check_faithfulness,
    missing_quotes,
    source_numbers,
    summary_numbers,
    unknown_names,
)

pytestmark = pytest.mark.unit

ARTICLE = (
    "MUNICH — US Vice President JD Vance met Ukraine's President Volodymyr Zelenskyy on "
    "Friday, February 14, 2025. Zelenskyy said the army numbers about 880,000 soldiers and "
    "that 1.5 million people had fled. Turnout rose to 62 percent, three cities voted, and "
    "the fund holds $2,000. “A ceasefire without guarantees is an invitation for Russia to "
    'come back,” he told journalists. "We need real security guarantees, not words on '
    'paper," he added. Officials in the U.S. were cautious.'
)


@pytest.mark.parametrize(
    "summary",
    [
        "The army numbers about 880000 soldiers.",  # 880,000 written without separators
        "The army numbers about 880,000 soldiers.",
        "Turnout rose to 62%.",  # 62 percent
        "Some 1,500,000 people had fled.",  # 1.5 million
        "Some 1.5m people had fled.",
        "Voting took place in 3 cities.",  # "three" in the article
        "They met on Feb. 14, 2025.",
        "The fund holds $2000.",
    ],
)
def test_numbers_match_by_value(summary: str) -> None:
    assert check_faithfulness(summary, ARTICLE).ok, check_faithfulness(summary, ARTICLE).issues


@pytest.mark.parametrize(
    ("summary", "bad"),
    [
        ("The army numbers about 900,000 soldiers.", "900,000"),
        ("Turnout rose to 26%.", "26"),
        ("Some 1.5 billion people had fled.", "1.5 billion"),
        ("They met on February 15, 2025.", "15"),
    ],
)
def test_changed_numbers_are_flagged(summary: str, bad: str) -> None:
    report = check_faithfulness(summary, ARTICLE)
    assert not report.ok
    assert report.issues == [f"number not in the article: {bad}"]


def test_number_extraction_normalizes_separators_percentages_and_scales() -> None:
    assert summary_numbers("1,000 and 1000, 20% and 2.50 and 3 billion") == [
        ("1,000", "1000"),
        ("1000", "1000"),
        ("20", "20"),
        ("2.50", "2.5"),
        ("3 billion", "3000000000"),
    ]
    assert {"880000", "1.5", "1500000", "62", "3", "2000"} <= source_numbers(ARTICLE)


def test_verbatim_quotes_pass_with_either_quote_style() -> None:
    summary = (
        'Zelenskyy said "a ceasefire without guarantees is an invitation for Russia to come '
        'back" and asked for “real security guarantees, not words on paper.”'
    )
    assert check_faithfulness(summary, ARTICLE).ok


def test_paraphrased_quote_is_flagged() -> None:
    summary = 'Zelenskyy said "a truce without guarantees invites Russia back."'
    report = check_faithfulness(summary, ARTICLE)
    assert report.issues == [
        'quote not in the article: "a truce without guarantees invites Russia back."'
    ]


def test_quote_with_ellipsis_checks_each_piece() -> None:
    assert (
        missing_quotes('"We need real security guarantees ... not words on paper"', ARTICLE) == []
    )
    assert missing_quotes('"We need real security guarantees ... and more tanks"', ARTICLE) == [
        "We need real security guarantees ... and more tanks"
    ]


def test_invented_names_are_flagged_and_inflections_allowed() -> None:
    summary = (
        "Talks in Munich: Vance met Zelensky, Ukraine's leader, and US officials. "
        "Ukrainian troops and Biden were not mentioned."
    )
    assert unknown_names(summary, ARTICLE) == ["Biden"]
    report = check_faithfulness(summary, ARTICLE)
    assert report.issues == ["name not in the article: Biden"]


def test_sentence_initial_words_and_quoted_words_are_not_names() -> None:
    summary = 'Overall, the meeting ended. Meanwhile "Russia to come back" was said.'
    assert unknown_names(summary, ARTICLE) == []
    assert check_faithfulness(summary, ARTICLE, check_names=True).ok


def test_names_check_can_be_turned_off() -> None:
    assert check_faithfulness("Vance met Biden.", ARTICLE, check_names=False).ok
    assert not check_faithfulness("Vance met Biden.", ARTICLE).ok


def test_possessives_and_abbreviations_are_known_names() -> None:
    index = SourceIndex(ARTICLE)
    assert unknown_names("It was Zelenskyy's call, and the US agreed.", index) == []
