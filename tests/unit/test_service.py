"""The NewsRAG facade wires the real store, retriever, QA and summaries around fake models."""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.errors import NotFoundError
from rag.service import NewsRAG
from rag.settings import load_settings

pytestmark = pytest.mark.unit

STORY = (
    "The defence secretary ruled out NATO membership for Ukraine on Wednesday. "
    "He said a return to the old borders was unrealistic.\n\n"
    "Officials in Kyiv said they were disappointed by the remarks."
)


def _service(tmp_path: Path, replies: list[str]) -> NewsRAG:
    settings = load_settings(data_dir=tmp_path / "data", abstain_min_similarity=-1.0)
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=replies),
    )


def test_ingest_list_get_delete(tmp_path: Path) -> None:
    rag = _service(tmp_path, [])
    report = rag.ingest_text(STORY, "Hegseth rules out NATO bid", source="Civic Wire")
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
    reply = "He ruled out NATO membership for Ukraine [1]."
    rag = _service(tmp_path, [reply, reply])
    rag.ingest_text(STORY, "Hegseth rules out NATO bid", source="Civic Wire")

    answer = rag.ask("What did the defence secretary rule out?")
    assert "NATO" in answer.answer
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
