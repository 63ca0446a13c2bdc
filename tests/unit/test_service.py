"""The NewsRAG facade wires the real store, retriever, QA and summaries around fake models."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.errors import NotFoundError
from rag.retrieval.hybrid import SearchFilters
from rag.service import NewsRAG
from rag.settings import load_settings

pytestmark = pytest.mark.unit

STORY = (
    "The defence secretary ruled out NATO membership for Ukraine on Wednesday. "
    "He said a return to the old borders was unrealistic.\n\n"
    "Officials in Kyiv said they were disappointed by the remarks."
)


def _service(tmp_path: Path, replies: list[str], **overrides: object) -> NewsRAG:
    """A facade on fakes; whole-passage answers unless ``qa_mode`` says otherwise."""
    overrides.setdefault("qa_mode", "passages")
    settings = load_settings(data_dir=tmp_path / "data", abstain_min_similarity=-1.0, **overrides)
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=replies),
    )


def test_ingest_list_get_delete(tmp_path: Path) -> None:
    rag = _service(tmp_path, [])
    report = rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    assert len(report.article_ids) == 1
    [info] = rag.list_articles()
    assert info.title == "Hegseth rules out NATO bid"
    assert rag.get_article(info.id).text.startswith("The defence secretary")
    assert rag.stats().articles == 1
    assert rag.delete([info.id]) == 1
    assert rag.list_articles() == []
    with pytest.raises(NotFoundError):
        rag.get_article(info.id)


def test_ask_returns_cited_answer_and_stream_ends_with_it(tmp_path: Path) -> None:
    reply = '{"evidence": [1], "answer": "He ruled out NATO membership for Ukraine."}'
    rag = _service(tmp_path, [reply, reply], answer_cache_size=0, qa_mode="evidence")
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")

    answer = rag.ask("What did the defence secretary rule out?")
    assert answer.answer == "He ruled out NATO membership for Ukraine. [1]"
    assert [c.title for c in answer.citations] == ["Hegseth rules out NATO bid"]

    pieces = list(rag.stream("What did the defence secretary rule out?"))
    assert all(isinstance(p, str) for p in pieces[:-1])
    assert pieces[-1].citations[0].number == 1
    assert "".join(pieces[:-1]).strip() == pieces[-1].answer.strip()


def test_describe_names_models_without_secrets(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_api_key="sk-hidden-123"
    )
    info = NewsRAG.from_settings(settings).describe()
    assert info["store_mode"] == "embedded"
    assert "sk-hidden-123" not in repr(info)


QUESTION = "What did the defence secretary rule out?"


def test_repeated_question_is_served_from_the_answer_cache(tmp_path: Path) -> None:
    rag = _service(tmp_path, ["First answer [1].", "Second answer [1]."])
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    first = rag.ask(QUESTION)
    again = rag.ask("  What did the defence secretary   rule out? ")
    assert (first.answer, first.cached) == ("First answer [1].", False)
    assert (again.answer, again.cached) == ("First answer [1].", True)
    assert again.citations == first.citations and again.prompt_tokens is None
    streamed = list(rag.stream(QUESTION))
    assert streamed[0] == "First answer [1]." and streamed[-1].cached


def test_answer_cache_misses_when_articles_filters_or_history_change(tmp_path: Path) -> None:
    replies = [f"Answer {n} [1]." for n in range(1, 5)]
    rag = _service(tmp_path, replies)
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    assert rag.ask(QUESTION).answer == "Answer 1 [1]."
    assert rag.ask(QUESTION, filters=SearchFilters(outlets=["Civic Wire"])).answer == (
        "Answer 2 [1]."
    )
    rag.ingest_text("Kyiv welcomed new air-defence deliveries.", "Air defence", outlet="X")
    assert rag.ask(QUESTION).answer == "Answer 3 [1]."  # the store changed
    assert rag.ask(QUESTION).cached


def test_stream_fills_the_answer_cache(tmp_path: Path) -> None:
    rag = _service(tmp_path, ["Streamed answer [1]."])
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    pieces = list(rag.stream(QUESTION))
    assert not pieces[-1].cached
    assert rag.ask(QUESTION).cached  # no second reply is scripted: a miss would fail


def test_answer_cache_can_be_turned_off(tmp_path: Path) -> None:
    rag = _service(tmp_path, ["One [1].", "Two [1]."], answer_cache_size=0)
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    assert [rag.ask(QUESTION).answer for _ in range(2)] == ["One [1].", "Two [1]."]


def test_stream_events_show_sources_before_words_and_replay_from_the_cache(tmp_path: Path) -> None:
    from rag.qa.answer import Done, PassagesFound, Stage, Token

    rag = _service(tmp_path, ["Streamed answer [1]."])
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")
    events = list(rag.stream_events(QUESTION))
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("PassagesFound") < kinds.index("Token")
    assert isinstance(events[0], Stage) and isinstance(events[-1], Done)
    assert not events[-1].answer.cached
    found = next(e for e in events if isinstance(e, PassagesFound))
    assert found.passages[0].title == "Hegseth rules out NATO bid"
    again = list(rag.stream_events(QUESTION))  # no second reply is scripted: a miss would fail
    assert [type(e) for e in again] == [PassagesFound, Token, Done]
    assert again[-1].answer.cached and again[1].text == again[-1].answer.answer
