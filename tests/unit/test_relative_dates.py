"""Weekdays and today/yesterday/tomorrow dated by the article, for the model's eyes only."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from rag.qa.evidence import select_evidence
from rag.qa.relative_dates import date_relative_days

pytestmark = pytest.mark.unit

TUESDAY = "2025-04-15"  # a Tuesday


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Work began on Tuesday.", "Work began on Tuesday (April 15, 2025)."),
        ("The vote was held on Sunday.", "The vote was held on Sunday (April 13, 2025)."),
        ("He resigned on Wednesday.", "He resigned on Wednesday (April 9, 2025)."),
        ("The board will meet on Friday.", "The board will meet on Friday (April 18, 2025)."),
        (
            "Talks are due to resume on Tuesday.",
            "Talks are due to resume on Tuesday (April 22, 2025).",
        ),
        (
            "The club said the team would parade on Monday.",
            "The club said the team would parade on Monday (April 21, 2025).",
        ),
        ("They met last Monday.", "They met last Monday (April 14, 2025)."),
        ("They meet next Monday.", "They meet next Monday (April 21, 2025)."),
        ("Rain fell yesterday.", "Rain fell yesterday (April 14, 2025)."),
        ("The report is out today.", "The report is out today (April 15, 2025)."),
        ("It opens tomorrow.", "It opens tomorrow (April 16, 2025)."),
    ],
)
def test_relative_days_get_the_calendar_date(sentence: str, expected: str) -> None:
    assert date_relative_days(sentence, TUESDAY) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "It opened on Tuesday, February 18.",
        "It opened on Tuesday 18 February.",
        "It opened on Tuesday (February 18).",
        "Mondays are quiet.",
        "No day is named here.",
    ],
)
def test_dated_or_absent_weekdays_are_left_alone(sentence: str) -> None:
    assert date_relative_days(sentence, TUESDAY) == sentence


@pytest.mark.parametrize("published", ["", "unknown", "2025-13-45"])
def test_an_unknown_publication_date_changes_nothing(published: str) -> None:
    assert date_relative_days("Work began on Tuesday.", published) == "Work began on Tuesday."


def test_the_model_reads_dated_days_but_quotes_keep_the_article_words() -> None:
    doc = Document(
        page_content="Construction of the tram line began on Tuesday. It will cost 229 million.",
        metadata={"article_id": "a", "title": "Tram works begin", "published": TUESDAY},
    )
    evidence = select_evidence("When did construction begin?", [doc], embed=None)
    first = evidence.sentences[0]
    assert first.text == "Construction of the tram line began on Tuesday."
    assert first.seen == "Construction of the tram line began on Tuesday (April 15, 2025)."
    assert "began on Tuesday (April 15, 2025)." in evidence.render_excerpts()
    assert "began on Tuesday (April 15, 2025)." in evidence.render()


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (  # the day goes with "said", not with the plan reported earlier in the sentence
            "Sanctions will be lifted, officials said late Thursday.",
            "Sanctions will be lifted, officials said late Thursday (April 10, 2025).",
        ),
        (
            "He resigned on Wednesday, saying he will stay on the board.",
            "He resigned on Wednesday (April 9, 2025), saying he will stay on the board.",
        ),
        (
            "Officials said on Monday the talks will resume.",
            "Officials said on Monday (April 14, 2025) the talks will resume.",
        ),
        (
            "Officials said the talks will resume on Thursday.",
            "Officials said the talks will resume on Thursday (April 17, 2025).",
        ),
        (
            "On Friday, the ministry will publish its plan.",
            "On Friday (April 18, 2025), the ministry will publish its plan.",
        ),
    ],
)
def test_each_day_takes_the_tense_of_the_nearest_verb(sentence: str, expected: str) -> None:
    assert date_relative_days(sentence, TUESDAY) == expected
