"""The opening's figures put back into a brief summary that left them out."""

from __future__ import annotations

import pytest

from rag.summaries.figures import with_opening_figures

pytestmark = pytest.mark.unit

ARTICLE = (
    "# Council vote\n"
    "The council approved the budget on Monday. "
    "The vote was 9 to 4 after a debate of 6 hours. "
    "Spending rises by 6.5% to 1,420 million dollars. "
    "Buses will run every 10 minutes from 2026."
)


def test_figures_stated_in_other_words_or_scales_count_as_stated() -> None:
    brief = "The council approved its budget by nine votes to four after six hours."
    _, added = with_opening_figures(brief, ARTICLE, opening_words=0)
    assert added == "Spending rises by 6.5% to 1,420 million dollars."
    brief = "The budget, passed 9-4 after 6 hours, rises 6.5% to $1.42bn."
    assert with_opening_figures(brief, ARTICLE, opening_words=20) == (brief, None)


def test_the_first_sentence_with_a_missing_figure_is_added_word_for_word() -> None:
    brief = "The council approved its budget."
    text, added = with_opening_figures(brief, ARTICLE, opening_words=0)
    assert added == "The vote was 9 to 4 after a debate of 6 hours."
    assert text == f"{brief} {added}"


def test_figures_the_brief_already_states_do_not_count() -> None:
    brief = "The council approved its budget by 9 votes to 4 after 6 hours of debate."
    _, added = with_opening_figures(brief, ARTICLE, opening_words=0)
    assert added == "Spending rises by 6.5% to 1,420 million dollars."


def test_nothing_is_added_beyond_the_length_of_the_first_three_sentences() -> None:
    long_brief = " ".join(["word"] * 26)  # the first three sentences have 26 words
    assert with_opening_figures(long_brief, ARTICLE, opening_words=0) == (long_brief, None)


def test_only_the_opening_is_searched() -> None:
    brief = "The council approved its budget by 9 votes to 4 after 6 hours, up 6.5% to 1,420m."
    # the sentence about buses lies beyond the first 20 words
    assert with_opening_figures(brief, ARTICLE, opening_words=20)[1] is None
    buses = "Buses will run every 10 minutes from 2026."
    assert with_opening_figures(brief, ARTICLE, opening_words=0)[1] == buses


def test_a_sentence_with_a_quotation_is_never_added() -> None:
    article = 'Rates were cut. "We cut by 0.25 points," the governor said. Markets rose.'
    assert with_opening_figures("Rates were cut.", article, opening_words=0) == (
        "Rates were cut.",
        None,
    )
