"""Compound questions answered part by part with fake models: one reply per part over the
same excerpts, a later part that leans on an earlier one rewritten first, the answers joined
with citations renumbered, refusals of one part or of all, streaming, and the setting off."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.documents import Document
from test_qa import HEGSETH, MUNICH, FakeRetriever, ScriptedChatModel, doc

from rag.qa.answer import ABSTAIN_MESSAGE, Answer, Citation, Done, Stage, Token
from rag.qa.chain import QAService
from rag.qa.parts import join_answers, leans_on_earlier
from rag.qa.turn import Turn
from rag.settings import load_settings

pytestmark = pytest.mark.unit

COMPOUND = "What did Hegseth say about NATO, and who did Vance meet in Munich?"


def service(*responses: str, **settings: Any) -> QAService:
    docs = [doc("hegseth", HEGSETH), doc("munich", MUNICH, 0.5)]
    settings.setdefault("abstain_on_missing_names", False)
    settings.setdefault("qa_mode", "excerpts")
    llm = ScriptedChatModel(responses=list(responses))
    return QAService(FakeRetriever(docs=docs), llm, load_settings(**settings))


def prompt_of(qa: QAService, call: int) -> str:
    return str(qa.llm.calls[call][-1].content)


def test_each_part_gets_its_own_reply_over_the_same_excerpts():
    qa = service(
        'Hegseth said NATO membership is "not a realistic outcome".',
        "Vance met Zelenskyy in Munich.",
    )
    answer = qa.ask(COMPOUND)
    assert len(qa.llm.calls) == 2
    first, second = prompt_of(qa, 0), prompt_of(qa, 1)
    assert first.endswith("Question: What did Hegseth say about NATO?")
    assert second.endswith("Question: Who did Vance meet in Munich?")
    # all but the question is the same, so the server's prompt cache serves the second
    assert first.rsplit("Question:", 1)[0] == second.rsplit("Question:", 1)[0]
    assert answer.answer == (
        'Hegseth said NATO membership is "not a realistic outcome". [1] '
        "Vance met Zelenskyy in Munich. [2]"
    )
    assert [c.article_id for c in answer.citations] == ["hegseth", "munich"]
    assert [c.number for c in answer.citations] == [1, 2]
    assert answer.question == COMPOUND and not answer.abstained
    words = [sum(len(str(m.content).split()) for m in call) for call in qa.llm.calls]
    assert answer.prompt_tokens == sum(words)  # the fake counts words as tokens


def test_a_part_that_leans_on_the_first_is_rewritten_with_it_as_the_conversation():
    qa = service(
        "Vance met Zelenskyy in Munich.",
        "Where did Vance meet Zelenskyy?",  # the rewrite of "where was it?"
        "In Munich, on Friday.",
    )
    answer = qa.ask("Who did Vance meet, and where was it?")
    assert len(qa.llm.calls) == 3
    condense = "\n".join(str(m.content) for m in qa.llm.calls[1])
    assert "Who did Vance meet?" in condense and "Vance met Zelenskyy in Munich." in condense
    assert prompt_of(qa, 2).endswith("Question: Where did Vance meet Zelenskyy?")
    assert answer.answer.startswith("Vance met Zelenskyy in Munich. [1] In Munich, on Friday.")


def test_a_part_the_articles_do_not_answer_says_so_and_the_rest_is_answered():
    qa = service("Vance met Zelenskyy in Munich.", ABSTAIN_MESSAGE)
    answer = qa.ask("Who did Vance meet in Munich, and what did Hegseth say about Gaza?")
    assert not answer.abstained
    assert answer.answer == (
        "Vance met Zelenskyy in Munich. [1] "
        f'On "What did Hegseth say about Gaza?": {ABSTAIN_MESSAGE}'
    )
    assert [c.article_id for c in answer.citations] == ["munich"]


def test_no_part_answered_is_one_refusal():
    qa = service(ABSTAIN_MESSAGE, ABSTAIN_MESSAGE)
    answer = qa.ask("Who won the World Cup, and who won the Tour de France?")
    assert answer.abstained and answer.answer == ABSTAIN_MESSAGE and answer.citations == []
    assert answer.abstain_reason == "model"


def test_the_setting_off_asks_the_whole_question_in_one_call():
    qa = service("Hegseth ruled NATO out; Vance met Zelenskyy.", qa_answer_parts=False)
    qa.ask(COMPOUND)
    assert len(qa.llm.calls) == 1
    assert prompt_of(qa, 0).endswith(f"Question: {COMPOUND}")


def test_a_streamed_compound_answer_shows_both_parts_then_the_joined_answer():
    qa = service(
        'Hegseth said NATO membership is "not a realistic outcome".',
        "Vance met Zelenskyy in Munich.",
    )
    events = list(qa.stream_events(COMPOUND))
    stages = [e for e in events if isinstance(e, Stage)]
    assert [e.name for e in stages] == ["retrieving", "reading"]
    assert stages[1].detail.endswith("(2 questions, answered in turn)")
    tokens = "".join(e.text for e in events if isinstance(e, Token))
    assert "not a realistic outcome" in tokens and tokens.endswith("Vance met Zelenskyy in Munich.")
    done = events[-1]
    assert isinstance(done, Done) and [c.number for c in done.answer.citations] == [1, 2]


def citing(question: str, text: str, *quotes: tuple[int, str, str]) -> Answer:
    citations = [Citation(number=n, article_id=a, text=q, quote=q) for n, a, q in quotes]
    return Answer(
        question=question,
        answer=text,
        standalone_question=question,
        citations=citations,
        passages=citations,
    )


def test_join_gives_an_article_cited_by_two_parts_one_number_and_both_quotes():
    first = citing("Who won?", "Ana won. [1]", (1, "vote", "Ana won."))
    second = citing(
        "By how much?",
        "By 12 points [2], on a 40% turnout. [1]",
        (1, "turnout", "Turnout was 40%."),
        (2, "vote", "She won by 12 points."),
    )
    turn = Turn(question="Who won, and by how much?", history=[], filters=None)
    joined = join_answers(turn, [first, second])
    assert joined.answer == "Ana won. [1] By 12 points [1], on a 40% turnout. [2]"
    assert [(c.number, c.article_id, c.quote) for c in joined.citations] == [
        (1, "vote", "Ana won. She won by 12 points."),
        (2, "turnout", "Turnout was 40%."),
    ]


@pytest.mark.parametrize(
    ("part", "leans"),
    [
        ("What did it find?", True),
        ("What did she do on her first day as mayor?", True),
        ("In what time?", True),
        ("Who won the men's Lakeport Marathon?", False),
    ],
)
def test_a_part_leans_on_an_earlier_one_by_a_pronoun_or_too_few_words(part, leans):
    assert leans_on_earlier(part) is leans


def test_parts_are_not_split_in_whole_passage_mode():
    docs: list[Document] = [doc("munich", MUNICH)]
    llm = ScriptedChatModel(responses=["Zelenskyy [1]."])
    settings = load_settings(qa_mode="passages", abstain_on_missing_names=False)
    QAService(FakeRetriever(docs=docs), llm, settings).ask(COMPOUND)
    assert len(llm.calls) == 1


def test_a_part_answer_another_part_already_says_is_left_out():
    first = citing("Who won?", "Ana won. [1]", (1, "vote", "Ana won."))
    second = citing("By how much?", "Ana won by 12 points. [1]", (1, "vote", "Ana won by 12."))
    turn = Turn(question="Who won, and by how much?", history=[], filters=None)
    assert join_answers(turn, [first, second]).answer == "Ana won by 12 points. [1]"
    same = citing("Who won?", "Ana won. [1]", (1, "vote", "Ana won."))
    assert join_answers(turn, [first, same]).answer == "Ana won. [1]"
