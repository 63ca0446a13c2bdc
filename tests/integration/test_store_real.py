"""The article store with the real embedder over a real embedded Chroma.

``StoreBehaviour`` holds the behaviour tests; ``tests/integration/test_chroma_server.py``
runs the same tests against a real Chroma server.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from child_python import child_env, run_python

from rag.ingest.article import Article
from rag.ingest.pipeline import ingest_locations
from rag.models.embeddings import shared_local_embeddings
from rag.settings import Settings, load_settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"

STORIES = {
    "ferry": (
        "Ferry service to Tern Island resumes after storm repairs",
        "Ferry crossings between the harbour and Tern Island restarted on Thursday after "
        "engineers rebuilt the storm-damaged pier. Islanders had relied on a water taxi for "
        "six weeks.",
    ),
    "rates": (
        "Reserve bank cuts interest rates as inflation cools",
        "The central bank lowered its policy rate by a quarter point to 3.75 percent, its "
        "second cut this year, as consumer price inflation fell toward the 2 percent target.",
    ),
    "cup": (
        "Rovers win the cup final with an extra-time goal",
        "A substitute striker scored in the 113th minute as the Rovers beat their rivals 3-2 "
        "after extra time to lift the trophy for the first time in the club's history.",
    ),
}


def story(key: str, *, extra: str = "", published: str = "2025-03-01") -> Article:
    title, text = STORIES[key]
    return Article.create(
        title=title,
        text=text + extra,
        outlet="Harbor Daily" if key != "cup" else "Civic Wire",
        url=f"https://news.example/{key}",
        published=published,
    )


class StoreBehaviour:
    """Store behaviour that must hold in embedded and in server mode.

    Subclasses provide ``store_settings`` (a fixture returning a fresh, isolated
    :class:`Settings`).
    """

    @pytest.fixture
    def store(self, store_settings: Settings) -> ArticleStore:
        return ArticleStore.from_settings(store_settings, shared_local_embeddings())

    def test_add_search_and_idempotent_reingest(self, store: ArticleStore) -> None:
        report = store.add_articles([story(k) for k in STORIES])
        assert report.added == 3 and report.chunks_added == store.stats().chunks >= 3
        results = store.dense_search("Why did the bank lower borrowing costs?", k=3)
        assert results[0][0].metadata["url"] == "https://news.example/rates"
        assert results[0][1] > results[-1][1] and 0.3 < results[0][1] <= 1.0001
        doc = results[0][0]
        article = store.get_article(doc.metadata["article_id"])
        assert article.text[doc.metadata["start"] : doc.metadata["end"]] == doc.page_content
        generation = store.generation()
        again = store.add_articles([story(k) for k in STORIES])
        assert (again.unchanged, again.chunks_added) == (3, 0)
        assert store.generation() == generation

    def test_filters_on_source_and_dates(self, store: ArticleStore) -> None:
        store.add_articles([story("ferry", published="2025-01-10"), story("rates"), story("cup")])
        hits = store.dense_search("ferry pier", k=5, where={"source": "Civic Wire"})
        assert {d.metadata["source"] for d, _ in hits} == {"Civic Wire"}
        recent = store.dense_search("news", k=5, where={"published_int": {"$gte": 20250201}})
        assert {d.metadata["url"].rsplit("/", 1)[1] for d, _ in recent} == {"rates", "cup"}

    def test_replace_and_delete(self, store: ArticleStore) -> None:
        store.add_articles([story("ferry"), story("cup")])
        generation = store.generation()
        changed = story("ferry", extra=" The first crossing carried forty passengers.")
        report = store.add_articles([changed])
        assert report.replaced == 1 and store.generation() != generation
        assert store.get_article(changed.id).text.endswith("forty passengers.")
        versions = {
            m["version"]
            for m in store.collection.get(where={"article_id": changed.id})["metadatas"]
        }
        assert versions == {2}
        assert store.delete([changed.id]) == 1
        assert [a.title for a in store.list_articles()] == [STORIES["cup"][0]]
        assert store.check_consistency() == []

    def test_langchain_vectorstore_and_chunk_access(self, store: ArticleStore) -> None:
        store.add_articles([story(k) for k in STORIES])
        scored = store.vectorstore.similarity_search_with_relevance_scores("extra-time winner", k=1)
        assert scored[0][0].metadata["url"].endswith("/cup") and scored[0][1] > 0.3
        rows = [row for batch in store.iter_chunks(batch_size=2) for row in batch]
        assert len(rows) == store.stats().chunks
        docs = store.get_chunks([rows[-1][0], rows[0][0]])
        assert [d.id for d in docs] == [rows[-1][0], rows[0][0]]

    def test_ingest_fixture_pages_and_feeds(self, store: ArticleStore, tmp_path: Path) -> None:
        folder = tmp_path / "pages"
        folder.mkdir()
        for name in ("port-strike.html", "council-budget.html", "nav-only.html", "atom-feed.xml"):
            (folder / name).write_bytes((FIXTURES / name).read_bytes())
        report = ingest_locations([folder], store, load_settings(data_dir=tmp_path / "unused"))
        assert report.added == 3 and len(report.failed) == 1
        hits = store.dense_search("dock workers end their walkout", k=1)
        assert hits[0][0].metadata["title"].startswith("Port strike ends")

    def test_generation_and_articles_are_visible_to_other_processes(
        self, store: ArticleStore, store_settings: Settings
    ) -> None:
        store.add_articles([story("ferry")])
        before = store.generation()
        output = run_in_subprocess(store_settings)
        assert output["added"] == 1 and len(output["titles"]) == 2
        assert store.generation() != before
        assert {a.title for a in store.list_articles()} == set(output["titles"])
        assert store.stats().articles == 2


SUBPROCESS_SCRIPT = textwrap.dedent(
    """
    import json, sys
    from rag.ingest.article import Article
    from rag.models.embeddings import shared_local_embeddings
    from rag.settings import load_settings
    from rag.store.articles import ArticleStore

    store = ArticleStore.from_settings(load_settings(), shared_local_embeddings())
    article = Article.create(title="Harbour crane collapses in high wind",
                             text="A container crane toppled at the harbour during a storm.",
                             url="https://news.example/crane")
    report = store.add_articles([article])
    titles = [a.title for a in store.list_articles()]
    print(json.dumps({"added": report.added, "titles": titles}))
    """
)


def run_in_subprocess(settings: Settings) -> dict:
    """Run a small script against the same store from another process; returns its JSON."""
    env = child_env(settings.data_dir, collection=settings.collection)
    if settings.chroma_url:
        env["RAG_CHROMA_URL"] = settings.chroma_url
    return run_python(SUBPROCESS_SCRIPT, env=env)


class TestEmbeddedStore(StoreBehaviour):
    @pytest.fixture
    def store_settings(self, tmp_path: Path) -> Settings:
        return load_settings(data_dir=tmp_path / "data")

    def test_store_persists_across_processes(
        self, store: ArticleStore, store_settings: Settings
    ) -> None:
        store.add_articles([story("rates")])
        code = (
            "import json; from rag.models.embeddings import shared_local_embeddings; "
            "from rag.settings import load_settings; from rag.store.articles import ArticleStore; "
            "s = ArticleStore.from_settings(load_settings(), shared_local_embeddings()); "
            "print(json.dumps([d.metadata['url'] for d, _ in s.dense_search('interest rates', 1)]))"
        )
        urls = run_python(code, env=child_env(store_settings.data_dir))
        assert urls == ["https://news.example/rates"]
