"""Fixtures shared by the ingest and source tests: settings with small chunks (60 words,
10 overlapping) and a store over them with a fake embedder, chunks counted in words.

Import them into a test module to use them as ``settings`` and ``store``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag.ingest.chunking import Chunker
from rag.settings import Settings, load_settings
from rag.store.articles import ArticleStore


@pytest.fixture(name="settings")
def small_chunk_settings(tmp_path: Path) -> Settings:
    """Settings over a fresh data folder, with 60-token chunks overlapping by 10."""
    return load_settings(data_dir=tmp_path / "data", chunk_tokens=60, chunk_overlap=10)


@pytest.fixture(name="store")
def small_chunk_store(settings: Settings) -> ArticleStore:
    """A store for ``settings`` with a fake embedder and chunks of 60 words (10 overlapping)."""
    return ArticleStore.from_settings(
        settings,
        DeterministicFakeEmbedding(size=384),
        chunker=Chunker(60, 10, count_tokens=lambda text: len(text.split())),
    )
