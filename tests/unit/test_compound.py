"""Compound questions split into parts; everything else stays one question."""

from __future__ import annotations

import pytest

from rag.qa.compound import MAX_PARTS, split_question

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
    split = split_question(question)
    assert [p.text for p in split] == parts
    assert all(p.whole == question for p in split)
    assert not split[1].is_whole
    assert split[1].reader_question() == f"{question} Answer only this part: {parts[1]}"


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
    (part,) = split_question(question)
    assert part.is_whole
    assert part.reader_question() == question


def test_too_many_parts_stay_whole() -> None:
    question = ", and ".join(["who came"] * (MAX_PARTS + 1)) + "?"
    (part,) = split_question(question)
    assert part.is_whole


def test_whitespace_is_normalised() -> None:
    parts = split_question("  Who won,\n and  who lost? ")
    assert [p.text for p in parts] == ["Who won?", "Who lost?"]
    assert parts[0].whole == "Who won, and who lost?"
