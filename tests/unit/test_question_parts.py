"""Compound questions split into parts; everything else stays one question."""

from __future__ import annotations

import pytest

from rag.qa.question_parts import MAX_PARTS, question_parts

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "Who coached the Rovers to the cup, and who won the men's marathon?",
            ["Who coached the Rovers to the cup?", "Who won the men's marathon?"],
        ),
        (
            "What was the lander sent to look for; what did it find?",
            ["What was the lander sent to look for?", "What did it find?"],
        ),
        (
            "Who won the women's race, and in what time?",
            ["Who won the women's race?", "In what time?"],
        ),
        (
            "What did the governor say about rate cuts in December 2024 and in February 2025?",
            [
                "What did the governor say about rate cuts in December 2024?",
                "What did the governor say about rate cuts in February 2025?",
            ],
        ),
        (
            "What happened on February 12 and on February 18, 2025, in the talks?",
            [
                "What happened on February 12, 2025, in the talks?",
                "What happened on February 18, 2025, in the talks?",
            ],
        ),
    ],
)
def test_compound_questions_are_split(question: str, parts: list[str]) -> None:
    assert question_parts(question) == parts


@pytest.mark.parametrize(
    "question",
    [
        "What did Hegseth rule out?",
        "How did the rate change between November 2024 and February 2025?",
        "Who are Ana Ruiz and Tom Berg?",
        "What did France and Germany agree on?",
        "Did the council approve the budget and the fare freeze?",
        "When did the storm hit, and?",
        "Why, and how?",
    ],
)
def test_other_questions_stay_whole(question: str) -> None:
    assert question_parts(question) == [question]


def test_too_many_parts_stay_whole() -> None:
    question = ", and ".join(["who came"] * (MAX_PARTS + 1)) + "?"
    assert question_parts(question) == [question]


def test_whitespace_is_normalised() -> None:
    assert question_parts("  Who won,\n and  who lost? ") == ["Who won?", "Who lost?"]
