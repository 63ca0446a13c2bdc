"""ArticleStore with a fake embedder over a real embedded Chroma in a temporary folder."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding

from rag.errors import ModelError, StoreError
from rag.ingest.article import Article
from rag.ingest.chunking import Chunker, chunk_id
from rag.settings import load_settings
from rag.store.articles import ArticleStore
from rag.store.journal import JOURNAL_PREFIX
from rag.store.records import GENERATION_ID, metadata_hash
from rag.store.reports import IngestProgress, IngestReport

pytestmark = pytest.mark.unit


class CountingEmbeddings(DeterministicFakeEmbedding):
    """The fake embedder, counting how many texts it embedded."""

    calls: int = 0
    texts: int = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        self.texts += len(texts)
        return super().embed_documents(texts)


def words(text: str) -> int:
    return len(text.split())


def make_article(n: int, *, url: bool = True, extra: str = "", **fields: object) -> Article:
    body = "\n\n".join(
        f"Story {n} paragraph {p}. " + " ".join(f"detail{n}x{p}x{i}" for i in range(25)) + "."
        for p in range(4)
    )
    values: dict = {
        "title": f"Story number {n}",
        "text": body + extra,
        "outlet": "Harbor Daily" if n % 2 else "Civic Wire",
        "url": f"https://news.example/story/{n}" if url else None,
        "published": f"2025-01-{n % 28 + 1:02d}",
        "origin": f"story-{n}.txt",
    }
    values.update(fields)
    return Article.create(**values)


@pytest.fixture
def embedder() -> CountingEmbeddings:
    return CountingEmbeddings(size=384)


@pytest.fixture
def store(tmp_path: Path, embedder: CountingEmbeddings) -> ArticleStore:
    settings = load_settings(data_dir=tmp_path / "data", chunk_tokens=40, chunk_overlap=8)
    return ArticleStore.from_settings(
        settings, embedder, chunker=Chunker(40, 8, count_tokens=words)
    )


def chunk_ids_of(store: ArticleStore, article_id: str) -> set[str]:
    return set(store.collection.get(where={"article_id": article_id}, include=[])["ids"])


# --------------------------------------------------------------------------- add
def test_add_stores_chunks_with_exact_text_and_metadata(store: ArticleStore) -> None:
    article = make_article(1)
    report = store.add_articles([article])
    assert (report.added, report.unchanged, report.replaced, report.failed) == (1, 0, 0, [])
    assert report.article_ids == [article.id]
    got = store.collection.get(where={"article_id": article.id}, include=["documents", "metadatas"])
    assert len(got["ids"]) == report.chunks_added > 1
    for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        assert cid == chunk_id(article.id, 1, meta["chunk_index"])
        assert doc == article.text[meta["start"] : meta["end"]]
        assert meta["title"] == article.title and meta["published_int"] == 20250102
        assert meta["source"] == "Harbor Daily" and meta["url"] == article.url
        assert meta["version"] == 1
    assert store.check_consistency() == []


def test_unchanged_article_is_not_embedded_again(
    store: ArticleStore, embedder: CountingEmbeddings
) -> None:
    articles = [make_article(n) for n in range(5)]
    store.add_articles(articles)
    embedded, generation = embedder.texts, store.generation()
    report = store.add_articles([make_article(n) for n in range(5)])
    assert (report.added, report.unchanged, report.chunks_added) == (0, 5, 0)
    assert embedder.texts == embedded
    assert store.generation() == generation
    assert report.article_ids == [a.id for a in articles]


def test_changed_article_at_same_url_replaces_old_chunks(store: ArticleStore) -> None:
    old = make_article(1)
    store.add_articles([old])
    old_ids = chunk_ids_of(store, old.id)
    new = make_article(1, extra="\n\nA correction was added to this story on Friday.")
    assert new.id == old.id and new.content_hash != old.content_hash
    report = store.add_articles([new])
    assert (report.added, report.replaced) == (0, 1)
    new_ids = chunk_ids_of(store, old.id)
    assert not (new_ids & old_ids)
    assert all(":2:" in cid for cid in new_ids)
    assert store.get_article(old.id).text.endswith("Friday.")
    assert store.stats().articles == 1 and store.stats().chunks == len(new_ids)
    assert store.check_consistency() == []


def test_metadata_only_change_is_a_replacement(store: ArticleStore) -> None:
    store.add_articles([make_article(1)])
    report = store.add_articles([make_article(1, published="2025-02-02")])
    assert report.replaced == 1
    assert store.list_articles()[0].published == "2025-02-02"
    metas = store.collection.get(include=["metadatas"])["metadatas"]
    assert {m["published_int"] for m in metas} == {20250202}


def test_same_id_twice_in_one_call_is_handled_in_order(store: ArticleStore) -> None:
    first = make_article(1)
    second = make_article(1, extra="\n\nUpdated.")
    report = store.add_articles([first, make_article(2), second])
    assert (report.added, report.replaced) == (2, 1)
    assert store.get_article(first.id).text.endswith("Updated.")
    assert store.check_consistency() == []


def test_many_articles_stream_in_batches_with_progress(
    tmp_path: Path, embedder: CountingEmbeddings
) -> None:
    settings = load_settings(data_dir=tmp_path / "d")
    store = ArticleStore(
        ArticleStore.from_settings(settings, embedder).client,
        embedder,
        collection="batched",
        chunker=Chunker(40, 8, count_tokens=words),
        batch_articles=7,
    )
    updates: list[IngestProgress] = []
    report = store.add_articles((make_article(n) for n in range(30)), progress=updates.append)
    assert report.added == 30 and len(report.article_ids) == 30
    assert embedder.calls == 5  # ceil(30 / 7) batches, one embedding call each
    assert [u.articles for u in updates] == [7, 14, 21, 28, 30]
    assert updates[-1].chunks == report.chunks_added == store.stats().chunks


# --------------------------------------------------------------------------- read
def test_list_get_stats_and_source_filter(store: ArticleStore) -> None:
    store.add_articles([make_article(n) for n in range(4)])
    listed = store.list_articles()
    assert [a.published for a in listed] == sorted((a.published for a in listed), reverse=True)
    assert {a.outlet for a in store.list_articles(outlet="harbor daily")} == {"Harbor Daily"}
    assert len(store.list_articles(outlet="Nobody")) == 0
    info = listed[0]
    article = store.get_article(info.id)
    assert article is not None and article.content_hash == info.content_hash
    assert article.origin.startswith("story-")
    assert store.get_article("missing") is None
    assert store.get_article(GENERATION_ID) is None
    stats = store.stats()
    assert (stats.articles, stats.mode, stats.collection) == (4, "embedded", "news")
    assert stats.chunks == sum(a.chunks for a in listed)


def test_iter_chunks_and_get_chunks(store: ArticleStore) -> None:
    store.add_articles([make_article(n) for n in range(3)])
    batches = list(store.iter_chunks(batch_size=4))
    rows = [row for batch in batches for row in batch]
    assert len(rows) == store.stats().chunks and all(len(b) <= 4 for b in batches)
    ids = [rows[3][0], "nope:1:0", rows[0][0]]
    docs = store.get_chunks(ids)
    assert [d.id for d in docs] == [rows[3][0], rows[0][0]]
    assert docs[0].page_content == rows[3][1] and docs[0].metadata == rows[3][2]


def test_dense_search_similarity_and_filters(store: ArticleStore) -> None:
    articles = [make_article(n) for n in range(4)]
    store.add_articles(articles)
    # The fake embedder is deterministic per text: the exact embedded text scores 1.0.
    target = store.collection.get(ids=[chunk_id(articles[2].id, 1, 0)], include=["documents"])
    query = articles[2].title + "\n" + target["documents"][0]
    results = store.dense_search(query, k=3)
    assert results[0][0].id == chunk_id(articles[2].id, 1, 0)
    assert results[0][1] == pytest.approx(1.0, abs=1e-5)
    assert all(a[1] >= b[1] for a, b in itertools.pairwise(results))
    filtered = store.dense_search(query, k=10, where={"source": "Harbor Daily"})
    assert filtered and all(d.metadata["source"] == "Harbor Daily" for d, _ in filtered)
    assert store.dense_search(query, k=0) == []
    ranged = store.dense_search(query, k=50, where={"published_int": {"$gte": 20250103}})
    assert {d.metadata["published_int"] for d, _ in ranged} == {20250103, 20250104}


def test_vectorstore_reads_the_same_collection(store: ArticleStore) -> None:
    store.add_articles([make_article(1)])
    docs = store.vectorstore.similarity_search("Story number 1", k=2)
    assert docs and docs[0].metadata["article_id"] == make_article(1).id


# --------------------------------------------------------------------------- delete and generation
def test_delete_removes_article_and_chunks(store: ArticleStore) -> None:
    a, b = make_article(1), make_article(2)
    store.add_articles([a, b])
    generation = store.generation()
    assert store.delete([a.id, "unknown", a.id]) == 1
    assert store.get_article(a.id) is None and not chunk_ids_of(store, a.id)
    assert chunk_ids_of(store, b.id)
    assert store.generation() != generation
    generation = store.generation()
    assert store.delete(["unknown"]) == 0 and store.delete([]) == 0
    assert store.generation() == generation
    assert store.check_consistency() == []


def test_generation_changes_on_add_and_is_shared_by_other_instances(
    tmp_path: Path, embedder: CountingEmbeddings
) -> None:
    settings = load_settings(data_dir=tmp_path / "g")
    one = ArticleStore.from_settings(settings, embedder, chunker=Chunker(40, 8, count_tokens=words))
    two = ArticleStore.from_settings(settings, embedder, chunker=Chunker(40, 8, count_tokens=words))
    start = one.generation()
    one.add_articles([make_article(1)])
    assert two.generation() != start == "0"
    assert two.stats().articles == 1


# --------------------------------------------------------------------------- journal recovery
def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _write_journal(store: ArticleStore, article: Article, chunks: int, pid: int, **extra) -> None:
    meta = {
        "kind": "journal",
        "op": "add",
        "article_id": article.id,
        "version": 1,
        "chunks": chunks,
        "old_version": 0,
        "old_chunks": 0,
        "host": __import__("socket").gethostname(),
        "pid": pid,
        "created": 0.0,
        **extra,
    }
    store.registry.upsert(
        ids=[JOURNAL_PREFIX + article.id],
        metadatas=[meta],
        documents=[article.model_dump_json()],
        embeddings=[[1.0]],
    )


def _upsert_chunks(store: ArticleStore, article: Article, limit: int | None = None) -> int:
    chunks = store.chunker.chunk_article(article, 1)
    part = chunks[:limit] if limit is not None else chunks
    store.collection.upsert(
        ids=[c.id for c in part],
        embeddings=store.embeddings.embed_documents([c.embed_text for c in part]),
        documents=[c.text for c in part],
        metadatas=[c.metadata for c in part],
    )
    return len(chunks)


def test_recovery_rolls_back_partial_write_of_dead_process(store: ArticleStore) -> None:
    article = make_article(7)
    total = _upsert_chunks(store, article, limit=2)
    _write_journal(store, article, total, _dead_pid())
    generation = store.generation()
    assert store.recover() == 1
    assert not chunk_ids_of(store, article.id) and store.get_article(article.id) is None
    assert store.generation() != generation
    assert store.check_consistency() == []


def test_recovery_rolls_forward_complete_write(store: ArticleStore) -> None:
    article = make_article(8)
    total = _upsert_chunks(store, article)
    _write_journal(store, article, total, _dead_pid())
    reopened = ArticleStore(store.client, store.embeddings, chunker=store.chunker)  # recovers
    assert reopened.get_article(article.id) == article
    assert reopened.list_articles()[0].chunks == total
    assert reopened.check_consistency() == []
    report = reopened.add_articles([article])
    assert report.unchanged == 1


def test_recovery_finishes_a_journal_that_lists_no_chunks(store: ArticleStore) -> None:
    article = make_article(10)
    _write_journal(store, article, 0, _dead_pid())
    assert store.recover() == 1
    assert not store.registry.get(ids=[JOURNAL_PREFIX + article.id])["ids"]
    assert store.get_article(article.id) == article
    assert store.recover() == 0


def test_recovery_leaves_journals_of_live_writers_alone(store: ArticleStore) -> None:
    article = make_article(9)
    total = _upsert_chunks(store, article, limit=1)
    helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _write_journal(store, article, total, helper.pid, created=__import__("time").time())
        assert store.recover() == 0
        assert any("pending write" in p for p in store.check_consistency())
    finally:
        helper.kill()
        helper.wait()
    assert store.recover() == 1
    assert store.check_consistency() == []


def test_recovery_completes_interrupted_delete(store: ArticleStore) -> None:
    article = make_article(3)
    store.add_articles([article])
    store.registry.upsert(
        ids=[JOURNAL_PREFIX + article.id],
        metadatas=[
            {
                "kind": "journal",
                "op": "delete",
                "article_id": article.id,
                "pid": _dead_pid(),
                "host": __import__("socket").gethostname(),
                "created": 0.0,
            }
        ],
        documents=[""],
        embeddings=[[1.0]],
    )
    assert store.recover() == 1
    assert store.get_article(article.id) is None and not chunk_ids_of(store, article.id)


def test_failed_write_is_rolled_back_and_reported(
    store: ArticleStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.add_articles([make_article(1)])
    before = store.stats()

    monkeypatch.setattr(store.registry, "upsert", _fail_on_article_records(store.registry.upsert))
    with pytest.raises(StoreError, match="disk full"):
        store.add_articles([make_article(2), make_article(3)])
    monkeypatch.undo()
    assert store.stats() == before
    assert store.check_consistency() == []


def _fail_on_article_records(original):
    def upsert(**kwargs):
        if any(m.get("kind") == "article" for m in kwargs.get("metadatas") or []):
            raise RuntimeError("disk full")
        return original(**kwargs)

    return upsert


# --------------------------------------------------------------------------- errors
def test_embedder_mismatch_is_refused(tmp_path: Path, embedder: CountingEmbeddings) -> None:
    settings = load_settings(data_dir=tmp_path / "m")
    ArticleStore.from_settings(settings, embedder).add_articles([make_article(1)])
    other = ArticleStore.from_settings(settings, DeterministicFakeEmbedding(size=64))
    with pytest.raises(StoreError, match="384 dimensions") as info:
        other.add_articles([make_article(2)])
    assert "RAG_COLLECTION" in str(info.value)
    with pytest.raises(StoreError):
        other.dense_search("anything", k=2)


def test_embedding_errors_become_model_errors(store: ArticleStore) -> None:
    class Broken(DeterministicFakeEmbedding):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            raise ConnectionError("endpoint down")

    broken = ArticleStore(store.client, Broken(size=384), chunker=store.chunker)
    with pytest.raises(ModelError, match="endpoint down"):
        broken.add_articles([make_article(1)])
    assert broken.stats().articles == 0


def test_unreachable_server_gives_a_hint(tmp_path: Path, embedder: CountingEmbeddings) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = load_settings(data_dir=tmp_path, chroma_url=f"http://127.0.0.1:{port}")
    with pytest.raises(StoreError, match="cannot reach the Chroma server") as info:
        ArticleStore.from_settings(settings, embedder)
    assert "chroma run --path" in str(info.value)


def test_unwritable_folder_gives_a_hint(tmp_path: Path, embedder: CountingEmbeddings) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = load_settings(data_dir=blocker)
    with pytest.raises(StoreError, match="cannot open the embedded Chroma store") as info:
        ArticleStore.from_settings(settings, embedder)
    assert "RAG_DATA_DIR" in str(info.value)


# --------------------------------------------------------------------------- report
def test_report_merge_and_json() -> None:
    report = IngestReport(added=1, failed=[("a.txt", "empty file")]).merge(
        IngestReport(unchanged=2, article_ids=["x"])
    )
    assert (report.total_ok, report.all_failed) == (3, False)
    assert json.loads(report.model_dump_json())["failed"] == [["a.txt", "empty file"]]
    assert IngestReport(failed=[("b", "c")]).all_failed


def test_metadata_hash_ignores_origin() -> None:
    a = make_article(1)
    assert metadata_hash(a) == metadata_hash(a.model_copy(update={"origin": "x"}))
    assert metadata_hash(a) != metadata_hash(a.model_copy(update={"outlet": "Other"}))
