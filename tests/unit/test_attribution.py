"""Quotes in a summary are given to the speaker the article names where it quotes them."""

from __future__ import annotations

import pytest

from rag.summaries.attribution import misattributed_quotes
from rag.summaries.faithfulness import check_faithfulness

pytestmark = pytest.mark.unit

ARTICLE = """BRUSSELS — Defence ministers met on Wednesday, chaired by John Healey.

"We want a sovereign Ukraine," Pete Hegseth said. "But we have to start with realism."

"Washington has told the Europeans three things in three days," said Fiona Larkin, a senior fellow.

Hegseth spoke for twenty minutes.

"This is not a betrayal," he said."""


@pytest.mark.parametrize(
    "summary",
    [
        'Hegseth said: "We want a sovereign Ukraine."',
        '"We want a sovereign Ukraine," said Pete Hegseth.',
        'Defense Secretary Pete Hegseth told ministers that "we have to start with realism."',
        '"Washington has told the Europeans three things in three days," Larkin said.',
        '- "Washington has told the Europeans three things in three days" — Fiona Larkin',
        'According to Larkin, "Washington has told the Europeans three things in three days."',
        '"This is not a betrayal," Hegseth said.',  # "he said": the speaker comes before
        'He said: "We want a sovereign Ukraine."',  # no name: not judged
        'Healey said: "Nobody said this."',  # not in the article: the words check's concern
    ],
)
def test_quotes_given_to_the_speaker_the_article_names_pass(summary: str) -> None:
    assert misattributed_quotes(summary, ARTICLE) == []


@pytest.mark.parametrize(
    ("summary", "speaker"),
    [
        ('Healey said: "We want a sovereign Ukraine."', "Healey"),
        ('"We have to start with realism," said John Healey.', "John Healey"),
        ('- "We want a sovereign Ukraine" — John Healey', "John Healey"),
        (
            '"Washington has told the Europeans three things in three days," Hegseth said.',
            "Hegseth",
        ),
        (
            'According to Hegseth, "Washington has told the Europeans three things in three days."',
            "Hegseth",
        ),
    ],
)
def test_a_quote_given_to_someone_else_is_caught(summary: str, speaker: str) -> None:
    [(quote, named)] = misattributed_quotes(summary, ARTICLE)
    assert named == speaker
    assert quote.rstrip(".,").lower() in ARTICLE.lower()


def test_faithfulness_reports_the_misattribution() -> None:
    report = check_faithfulness('Healey said: "We want a sovereign Ukraine."', ARTICLE)
    assert not report.ok
    assert report.issues == [
        "quote given to Healey, whom the article does not name as its speaker: "
        '"We want a sovereign Ukraine."'
    ]
