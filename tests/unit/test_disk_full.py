"""Disk full (ENOSPC) at the lowest write layers news-rag controls, with fake models."""

from __future__ import annotations

import errno
import logging
import os
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models import FakeListChatModel

from rag.errors import StoreError
from rag.service import NewsRAG
from rag.settings import load_settings
from rag.summaries import cache as summary_cache

pytestmark = pytest.mark.unit

STORY = (
    "The defence secretary ruled out NATO membership for Ukraine on Wednesday. "
    "He said a return to the old borders was unrealistic."
)
FULL = OSError(errno.ENOSPC, "No space left on device")


def _service(tmp_path: Path, replies: list[str] | None = None) -> NewsRAG:
    settings = load_settings(data_dir=tmp_path / "data", abstain_min_similarity=-1.0)
    return NewsRAG.from_settings(
        settings,
        embeddings=DeterministicFakeEmbedding(size=384),
        llm=FakeListChatModel(responses=replies or ["The secretary ruled out NATO membership."]),
    )


@pytest.mark.parametrize("layer", ["journal", "chunks", "registry"])
def test_store_write_hits_enospc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, layer: str
) -> None:
    rag = _service(tmp_path)
    rag.ingest_text(STORY, "First story", outlet="Civic Wire")
    before = (rag.stats().articles, rag.stats().chunks, rag.store.generation())
    store = rag.store
    calls = {"registry": 0}
    registry_upsert = store.registry.upsert

    def failing_registry(*args: object, **kwargs: object) -> None:
        calls["registry"] += 1  # 1st: the journal, 2nd: the article record
        if (layer, calls["registry"]) in (("journal", 1), ("registry", 2)):
            raise FULL
        registry_upsert(*args, **kwargs)

    def failing_chunks(*args: object, **kwargs: object) -> None:
        raise FULL

    monkeypatch.setattr(store.registry, "upsert", failing_registry)
    if layer == "chunks":
        monkeypatch.setattr(store.collection, "upsert", failing_chunks)
    with pytest.raises(StoreError) as info:
        rag.ingest_text(STORY + " More text.", "Second story", outlet="Civic Wire")
    assert "is full" in info.value.message and "MB free" in info.value.message
    assert "free disk space" in (info.value.hint or "")
    monkeypatch.undo()
    assert (rag.stats().articles, rag.stats().chunks, rag.store.generation()) == before
    assert store.check_consistency() == []
    assert rag.ingest_text(STORY + " More text.", "Second story").added == 1
    assert store.check_consistency() == []


def test_store_folder_cannot_be_created_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_makedirs(*args: object, **kwargs: object) -> None:
        raise FULL

    monkeypatch.setattr(os, "makedirs", full_makedirs)
    with pytest.raises(StoreError, match="is full"):
        _service(tmp_path).list_articles()


def test_summary_is_returned_when_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rag = _service(tmp_path)
    report = rag.ingest_text(STORY, "Hegseth rules out NATO bid", outlet="Civic Wire")

    def full_replace(*args: object, **kwargs: object) -> None:
        raise FULL

    monkeypatch.setattr(summary_cache.os, "replace", full_replace)
    with caplog.at_level(logging.WARNING):
        summary = rag.summarize(report.article_ids[0])
    assert "NATO" in summary.text and not summary.cached
    assert "not cached" in caplog.text
    folder = rag.settings.cache_dir / "summaries"
    assert not [p for p in folder.rglob("*") if p.is_file()]  # no temp file left behind
