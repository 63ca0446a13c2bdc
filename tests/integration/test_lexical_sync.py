"""BM25 replicas on one real Chroma server stay in step by reading only what changed.

Two stores (as two app replicas would hold) share a collection on a Chroma server. The
second one's BM25 index follows ingests, rewrites and deletes made through the first,
fetching only the chunks of added or changed articles, and ends up scoring exactly like
an index built from scratch.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from test_chroma_server import ChromaServer
from test_chroma_server import chroma_server as shared_chroma_server  # noqa: F401

from rag.ingest.article import Article
from rag.models.embeddings import shared_local_embeddings
from rag.retrieval.lexical import ChunkIndex
from rag.settings import load_settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.integration

QUERIES = (["harbour", "ferry"], ["council", "budget"], ["flood"], ["museum", "reopen"])


def article(n: int, topic: str, extra: str = "") -> Article:
    text = (
        f"The {topic} story number {n} was reported on Monday. Officials said the {topic} "
        f"plan would be reviewed by the council. {extra}"
    )
    return Article.create(
        title=f"{topic.title()} report {n}", text=text, url=f"https://news.example/{n}"
    )


class FetchSpy:
    """Wraps a store and records every chunk id the index fetched."""

    def __init__(self, store: ArticleStore) -> None:
        self.store = store
        self.fetched: list[str] = []

    def generation(self) -> str:
        return self.store.generation()

    def chunk_manifest(self) -> dict[str, list[str]]:
        return self.store.chunk_manifest()

    def get_chunks(self, ids):
        self.fetched.extend(ids)
        return self.store.get_chunks(ids)


def stored_ids(store: ArticleStore) -> list[str]:
    return sorted(cid for batch in store.iter_chunks() for cid, _, _ in batch)


def test_a_replica_index_follows_writes_made_through_another(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    chroma: ChromaServer = request.getfixturevalue("shared_chroma_server")
    settings = load_settings(
        data_dir=tmp_path / "data", chroma_url=chroma.url, collection=f"lx{uuid.uuid4().hex[:8]}"
    )
    writer = ArticleStore.from_settings(settings, shared_local_embeddings())
    reader = ArticleStore.from_settings(settings, shared_local_embeddings())
    topics = ["harbour", "council", "flood", "museum", "ferry", "budget"]
    writer.add_articles([article(n, topics[n % len(topics)]) for n in range(12)])

    spy = FetchSpy(reader)
    index = ChunkIndex(spy)
    assert index.sync()
    assert sorted(index.live_ids) == stored_ids(reader)

    spy.fetched.clear()
    added = article(100, "harbour", "A new ferry route opens.")
    rewritten = article(3, topics[3], "The museum will reopen in May after repairs.")
    writer.add_articles([added, rewritten])
    writer.delete([article(4, topics[4]).id])
    assert index.sync()

    changed = {added.id, rewritten.id}
    assert spy.fetched, "the new and rewritten articles were read"
    assert {cid.split(":")[0] for cid in spy.fetched} == changed
    assert sorted(index.live_ids) == stored_ids(reader)

    fresh = ChunkIndex(reader)
    fresh.sync()
    for query in QUERIES:
        ours = {cid: score for score, cid, _, _ in index.search(query, k=50)}
        theirs = {cid: score for score, cid, _, _ in fresh.search(query, k=50)}
        assert ours.keys() == theirs.keys()
        np.testing.assert_allclose(
            [ours[c] for c in sorted(ours)], [theirs[c] for c in sorted(theirs)], rtol=1e-9
        )
    assert not index.sync()  # nothing moved: no work
