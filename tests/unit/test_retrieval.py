"""Hybrid retrieval over a fake store: fusion, modes, filters, per-article cap, time words."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from langchain_core.documents import Document

from rag.retrieval.hybrid import HybridRetriever, SearchFilters, bm25_tokenize
from rag.retrieval.timewords import parse_time_expressions
from rag.settings import load_settings

pytestmark = pytest.mark.unit


def _vector(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z]+", text.lower()))


def _cosine(a: Counter[str], b: Counter[str]) -> float:
    dot = sum(a[w] * b[w] for w in a)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def _matches(metadata: dict[str, Any], where: dict[str, Any] | None) -> bool:
    """A tiny evaluator of the Chroma where-filters the retriever emits."""
    if not where:
        return True
    if "$and" in where:
        return all(_matches(metadata, clause) for clause in where["$and"])
    ((field, condition),) = where.items()
    ((op, value),) = condition.items()
    actual = metadata.get(field)
    return {
        "$in": lambda: actual in value,
        "$gte": lambda: actual >= value,
        "$lte": lambda: actual <= value,
    }[op]()


class FakeStore:
    """Implements the ArticleStore methods the retriever uses; bag-of-words "dense" search."""

    def __init__(self) -> None:
        self.chunks: dict[str, tuple[str, dict[str, Any]]] = {}
        self._generation = 0
        self._versions: dict[str, int] = {}
        self.manifests = 0
        self.fetched: list[str] = []
        self.listings = 0
        self.where_seen: list[dict[str, Any] | None] = []

    def add(self, article_id: str, title: str, texts: list[str], **meta: Any) -> None:
        published = meta.get("published", "")
        self.delete(article_id)
        self._versions[article_id] = version = self._versions.get(article_id, 0) + 1
        for index, text in enumerate(texts):
            self.chunks[f"{article_id}:{version}:{index}"] = (
                text,
                {
                    "article_id": article_id,
                    "chunk_index": index,
                    "start": index * 100,
                    "end": index * 100 + len(text),
                    "title": title,
                    "source": meta.get("source", ""),
                    "url": f"https://news.example/{article_id}",
                    "published": published,
                    "published_int": int(published.replace("-", "")) if published else 0,
                },
            )
        self._generation += 1

    def delete(self, article_id: str) -> None:
        self.chunks = {k: v for k, v in self.chunks.items() if v[1]["article_id"] != article_id}
        self._generation += 1

    def generation(self) -> str:
        return str(self._generation)

    def list_articles(self, outlet: str | None = None) -> list[Any]:
        self.listings += 1
        seen = {m["article_id"]: m["source"] for _, m in self.chunks.values()}
        return [SimpleNamespace(id=a, outlet=s) for a, s in seen.items()]

    def chunk_manifest(self) -> dict[str, list[str]]:
        self.manifests += 1
        manifest: dict[str, list[str]] = {}
        for cid, (_, meta) in self.chunks.items():
            manifest.setdefault(meta["article_id"], []).append(cid)
        return manifest

    def get_chunks(self, ids: list[str]) -> list[Document]:
        self.fetched.extend(ids)
        return [
            Document(id=cid, page_content=self.chunks[cid][0], metadata=dict(self.chunks[cid][1]))
            for cid in ids
            if cid in self.chunks
        ]

    def dense_search(self, query: str, k: int, where: dict[str, Any] | None = None):
        self.where_seen.append(where)
        q = _vector(query)
        hits = [
            (Document(id=cid, page_content=text, metadata=dict(meta)), _cosine(q, _vector(text)))
            for cid, (text, meta) in self.chunks.items()
            if _matches(meta, where)
        ]
        hits.sort(key=lambda pair: pair[1], reverse=True)
        return hits[:k]


@pytest.fixture
def store() -> FakeStore:
    s = FakeStore()
    s.add(
        "hegseth",
        "Hegseth tells allies Ukraine will not join NATO",
        [
            "Hegseth said NATO membership for Ukraine is not a realistic outcome of a deal.",
            "He said no American troops would be deployed to Ukraine as peacekeepers.",
            "Allies in Brussels reacted with concern to the remarks about Ukraine.",
        ],
        source="Civic Wire",
        published="2025-02-12",
    )
    s.add(
        "munich",
        "Vance and Zelenskyy meet in Munich",
        ["Vance met Zelenskyy in Munich to discuss Ukraine and NATO."],
        source="The Meridian Post",
        published="2025-02-14",
    )
    s.add(
        "rates",
        "Norvanian Reserve Bank cuts interest rate",
        ["The central bank cut its interest rate to 3.75% as inflation cooled."],
        source="Northbridge Herald",
        published="2024-11-07",
    )
    s.add(
        "floods",
        "Flash floods hit the Ardent Valley",
        ["Record rainfall caused flash floods; thousands were evacuated from the valley."],
        source="Civic Wire",
        published="2024-09-18",
    )
    return s


def make(store: FakeStore, today: date = date(2025, 6, 1), **overrides: Any) -> HybridRetriever:
    settings = load_settings(**overrides)
    return HybridRetriever.from_settings(store, settings, clock=lambda: today)


def test_tokenizer_drops_stopwords_and_folds_plurals():
    assert bm25_tokenize("What did the allies say about TROOPS and NATO's role?") == [
        "ally",
        "troop",
        "nato",
        "role",
    ]


def test_hybrid_returns_documents_with_scores(store):
    docs = make(store).invoke("Did Hegseth rule out NATO membership for Ukraine?")
    assert docs[0].metadata["article_id"] == "hegseth"
    assert docs[0].metadata["chunk_index"] == 0
    top = docs[0].metadata
    assert top["rank"] == 1
    assert top["dense_rank"] == 1 and top["bm25_rank"] == 1
    assert top["dense_similarity"] > 0.3
    assert top["rrf_score"] == pytest.approx(2 / 61)
    scores = [d.metadata["rrf_score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


def test_bm25_only_hit_has_no_dense_similarity(store):
    docs = make(store, retrieval_mode="bm25").invoke("peacekeepers")
    assert [d.metadata["article_id"] for d in docs] == ["hegseth"]
    assert docs[0].metadata["dense_similarity"] is None
    assert docs[0].metadata["bm25_score"] > 0


def test_bm25_indexes_titles(store):
    # "Zelenskyy" and "Vance" are only in the Munich chunk; "meet" only in its title.
    docs = make(store, retrieval_mode="bm25").invoke("meet")
    assert [d.metadata["article_id"] for d in docs] == ["munich"]


def test_dense_mode_does_not_build_bm25(store):
    docs = make(store, retrieval_mode="dense").invoke("interest rate inflation")
    assert docs[0].metadata["article_id"] == "rates"
    assert docs[0].metadata["bm25_rank"] is None
    assert store.manifests == 0


def test_k_and_per_article_cap(store):
    retriever = make(store, retrieval_k=10, max_chunks_per_article=2)
    docs = retriever.invoke("Hegseth Ukraine NATO troops Brussels")
    per_article = Counter(d.metadata["article_id"] for d in docs)
    assert per_article["hegseth"] == 2
    assert len(make(store, retrieval_k=2).invoke("Ukraine")) == 2
    assert len(retriever.invoke("Ukraine", k=1)) == 1


def test_weights_change_the_order(store):
    query = "Ukraine peacekeepers concern"
    dense_first = make(store, bm25_weight=0.0, max_chunks_per_article=3).invoke(query)
    bm25_first = make(store, dense_weight=0.0, max_chunks_per_article=3).invoke(query)
    dense_only = make(store, retrieval_mode="dense", max_chunks_per_article=3).invoke(query)
    bm25_only = make(store, retrieval_mode="bm25", max_chunks_per_article=3).invoke(query)
    assert [d.id for d in dense_first] == [d.id for d in dense_only]
    assert [d.id for d in bm25_first][: len(bm25_only)] == [d.id for d in bm25_only]


def test_source_filter_is_case_insensitive_and_applies_to_both_sides(store):
    retriever = make(store)
    docs = retriever.invoke("Ukraine NATO", filters=SearchFilters(outlets=["the meridian post"]))
    assert {d.metadata["article_id"] for d in docs} == {"munich"}
    assert store.where_seen[-1] == {"source": {"$in": ["The Meridian Post"]}}


def test_dense_mode_resolves_outlets_without_building_bm25(store):
    retriever = make(store, retrieval_mode="dense")
    for _ in range(3):
        docs = retriever.invoke("Ukraine", filters=SearchFilters(outlets=["CIVIC WIRE"]))
    assert {d.metadata["source"] for d in docs} == {"Civic Wire"}
    assert store.manifests == 0 and store.listings == 1  # cached per generation
    store.add("new", "New story", ["Ukraine again."], source="Civic Wire")
    retriever.invoke("Ukraine", filters=SearchFilters(outlets=["civic wire"]))
    assert store.listings == 2


def test_article_and_date_filters(store):
    retriever = make(store)
    only = retriever.invoke("Ukraine", filters=SearchFilters(article_ids=["munich"]))
    assert {d.metadata["article_id"] for d in only} == {"munich"}
    window = SearchFilters(since=date(2024, 9, 1), until=date(2024, 12, 31))
    docs = retriever.invoke("interest rate floods valley", filters=window)
    assert {d.metadata["article_id"] for d in docs} == {"rates", "floods"}
    assert store.where_seen[-1] == {
        "$and": [{"published_int": {"$gte": 20240901}}, {"published_int": {"$lte": 20241231}}]
    }


def test_where_is_none_without_filters(store):
    make(store).invoke("Ukraine")
    assert store.where_seen[-1] is None


def test_time_words_become_filters(store):
    retriever = make(store)
    docs = retriever.invoke("What happened in 2024?")
    assert docs, "the BM25 side alone cannot match 'happened'; dense must still filter"
    assert {d.metadata["article_id"] for d in docs} <= {"rates", "floods"}
    docs = retriever.invoke("Ukraine news before 2025-02-13")
    assert docs[0].metadata["article_id"] == "hegseth"
    assert "munich" not in {d.metadata["article_id"] for d in docs}  # 2025-02-14
    filters, _ = retriever.resolve_filters("Ukraine in February 2025", SearchFilters())
    assert (filters.since, filters.until) == (date(2025, 1, 1), date(2025, 3, 14))


def test_an_event_date_finds_the_preview_before_and_the_report_after(store):
    retriever = make(store)
    # "rates" was published 2024-11-07: a question about December 2024 still finds it
    docs = retriever.invoke("What will the bank's rate be in December 2024?")
    assert "rates" in {d.metadata["article_id"] for d in docs}
    # "munich" (2025-02-14) reports what happened on February 12
    docs = retriever.invoke("What happened in Munich on February 12, 2025?")
    assert docs[0].metadata["article_id"] == "munich"
    # an explicit bound stays exact
    filters, _ = retriever.resolve_filters("Ukraine news since 2025-02-13")
    assert (filters.since, filters.until) == (date(2025, 2, 13), None)


def test_relative_time_words_use_the_clock(store):
    retriever = make(store, today=date(2025, 2, 14))
    filters, _ = retriever.resolve_filters("What happened yesterday?")
    assert (filters.since, filters.until) == (date(2025, 2, 13), date(2025, 2, 13))
    docs = retriever.invoke("Ukraine this week")  # week of Monday 2025-02-10
    assert {d.metadata["article_id"] for d in docs} == {"hegseth", "munich"}
    assert store.where_seen[-1] == {
        "$and": [{"published_int": {"$gte": 20250210}}, {"published_int": {"$lte": 20250214}}]
    }


def test_yearless_month_falls_back_when_it_matches_nothing(store):
    retriever = make(store, today=date(2026, 11, 27))  # "in November" -> November 2026: empty
    docs = retriever.invoke("What rate did the bank set in November?")
    assert docs and docs[0].metadata["article_id"] == "rates"
    hard = retriever.invoke("What rate did the bank set in November 2026?")
    assert hard == []  # an explicit year stays a hard filter


def test_yearless_month_filters_when_it_matches(store):
    retriever = make(store, today=date(2025, 6, 1))  # "in February" -> February 2025
    docs = retriever.invoke("Ukraine NATO Brussels allies in February")
    assert {d.metadata["article_id"] for d in docs} == {"hegseth", "munich"}


def test_time_words_intersect_explicit_filters(store):
    retriever = make(store)
    explicit = SearchFilters(since=date(2024, 10, 1))
    filters, _ = retriever.resolve_filters("in 2024", explicit)
    assert (filters.since, filters.until) == (date(2024, 10, 1), date(2025, 1, 14))


def test_latest_prefers_newer_articles(store):
    query = "Ukraine NATO"
    plain = make(store, max_chunks_per_article=1).invoke(query)
    latest = make(store, max_chunks_per_article=1).invoke(f"latest on {query}")
    assert plain[0].metadata["article_id"] == "hegseth"
    assert latest[0].metadata["article_id"] == "munich"


def test_bm25_index_reads_only_what_changed(store):
    retriever = make(store, retrieval_mode="bm25")
    retriever.invoke("floods")
    retriever.invoke("rainfall")
    assert store.manifests == 1  # nothing changed: no second look at the store
    first_build = len(store.fetched)
    store.add("storm", "Storm closes the harbour", ["A storm closed the harbour on Monday."])
    assert [d.metadata["article_id"] for d in retriever.invoke("harbour")] == ["storm"]
    assert store.fetched[first_build:] == ["storm:1:0"]  # only the new article was read
    store.delete("floods")
    assert retriever.invoke("floods") == []
    assert len(store.fetched) == first_build + 1  # a delete reads no chunk at all


def test_bm25_follows_a_rewritten_article(store):
    retriever = make(store, retrieval_mode="bm25")
    assert retriever.invoke("rainfall")
    store.add("floods", "Flood update", ["Water levels fell and schools reopened."])
    assert retriever.invoke("rainfall") == []
    assert [d.id for d in retriever.invoke("schools reopened")] == ["floods:2:0"]


def test_empty_store_returns_nothing():
    assert make(FakeStore()).invoke("anything") == []


def test_query_with_only_stopwords_uses_dense(store):
    docs = make(store).invoke("what is it?")
    assert all(d.metadata["bm25_rank"] is None for d in docs)


def test_filters_accept_a_dict_through_invoke(store):
    docs = make(store).invoke("Ukraine", filters={"outlets": ["Civic Wire"]})
    assert {d.metadata["article_id"] for d in docs} <= {"hegseth", "floods"}
    assert docs[0].metadata["article_id"] == "hegseth"


@pytest.mark.parametrize(
    ("text", "since", "until", "recent"),
    [
        ("What happened in 2024?", date(2024, 1, 1), date(2024, 12, 31), False),
        ("news in February 2025", date(2025, 2, 1), date(2025, 2, 28), False),
        ("since March 3", date(2025, 3, 3), None, False),
        ("since March 3", date(2025, 3, 3), None, False),
        ("before 2025-02-14", None, date(2025, 2, 13), False),
        ("after 2025-02-14", date(2025, 2, 15), None, False),
        ("until March 2025", None, date(2025, 3, 31), False),
        ("prior to 2025", None, date(2024, 12, 31), False),
        ("on 14 February 2025", date(2025, 2, 14), date(2025, 2, 14), False),
        ("between Jan 2025 and March 2025", date(2025, 1, 1), date(2025, 3, 31), False),
        ("today", date(2025, 6, 4), date(2025, 6, 4), False),
        ("yesterday", date(2025, 6, 3), date(2025, 6, 3), False),
        ("this week", date(2025, 6, 2), date(2025, 6, 4), False),
        ("last week", date(2025, 5, 26), date(2025, 6, 1), False),
        ("in the past 10 days", date(2025, 5, 26), date(2025, 6, 4), False),
        ("last month", date(2025, 5, 1), date(2025, 5, 31), False),
        ("the latest on Ukraine", None, None, True),
        ("most recent news", None, None, True),
        ("What did he say in Munich?", None, None, False),
        ("What did they say in may?", None, None, False),  # the verb, not the month
        ("before the summit", None, None, False),
        ("the 2024 election results", None, None, False),
    ],
)
def test_time_expressions(text, since, until, recent):
    hints = parse_time_expressions(text, today=date(2025, 6, 4))  # a Wednesday
    assert (hints.since, hints.until, hints.prefer_recent) == (since, until, recent)


def test_since_a_day_in_the_future_means_last_year():
    hints = parse_time_expressions("since December 1", today=date(2025, 6, 4))
    assert hints.since == date(2024, 12, 1)
    assert hints.guessed_year


def test_two_periods_span_both():
    hints = parse_time_expressions(
        "What did she say in December 2024 and in February 2025?", today=date(2026, 1, 1)
    )
    assert (hints.since, hints.until) == (date(2024, 12, 1), date(2025, 2, 28))


def test_a_period_and_a_bound_intersect():
    hints = parse_time_expressions("in 2025 before March 3", today=date(2026, 1, 1))
    assert (hints.since, hints.until) == (date(2025, 1, 1), date(2025, 3, 2))


@pytest.mark.parametrize(
    ("text", "guessed"),
    [
        ("in November", True),
        ("since March 3", True),
        ("in November 2024", False),
        ("before 2025-02-14", False),
        ("in 2024", False),
        ("this week", False),
        ("between Jan and March", True),
    ],
)
def test_guessed_year_flag(text, guessed):
    assert parse_time_expressions(text, today=date(2025, 6, 4)).guessed_year is guessed


def test_search_filters_to_where():
    assert SearchFilters().to_where() is None
    assert SearchFilters(article_ids=["a"]).to_where() == {"article_id": {"$in": ["a"]}}


@pytest.fixture
def wide_store() -> FakeStore:
    """200 one-chunk articles from two outlets: an outlet filter lets half through."""
    s = FakeStore()
    for n in range(200):
        outlet = ("Civic Wire", "Daily Bugle")[n % 2]
        s.add(f"a{n}", f"Story {n}", [f"Harbour ferry council vote number {n}."], source=outlet)
    return s


def test_broad_filter_post_filters_a_wider_unfiltered_search(wide_store, monkeypatch):
    # 200 chunks stand for 100k
    monkeypatch.setattr("rag.retrieval.hybrid.MIN_POST_FILTER_POOL", 50)
    outlet = SearchFilters(outlets=["Daily Bugle"])
    expected = [d.id for d, _ in wide_store.dense_search("ferry vote", 30, outlet.to_where())]
    retriever = make(wide_store)
    retriever.invoke("ferry")  # builds the BM25 index: how many chunks pass is known
    wide_store.where_seen.clear()
    assert [d.id for d, _ in retriever._dense("ferry vote", 30, outlet)] == expected
    assert wide_store.where_seen == [None]  # one unfiltered search, no Chroma filter


def test_filters_go_to_the_store_without_an_index_or_when_few_chunks_pass(wide_store):
    outlet = SearchFilters(outlets=["Daily Bugle"])
    make(wide_store, retrieval_mode="dense").invoke("ferry vote", filters=outlet)
    assert wide_store.where_seen[-1] == {"source": {"$in": ["Daily Bugle"]}}
    hybrid = make(wide_store)
    hybrid.invoke("ferry")
    wide_store.where_seen.clear()
    hybrid.invoke("ferry vote", filters=outlet)  # 100 chunks pass: Chroma's filter is fast
    assert wide_store.where_seen == [{"source": {"$in": ["Daily Bugle"]}}]


def test_post_filter_falls_back_when_too_few_survive(wide_store, monkeypatch):
    monkeypatch.setattr("rag.retrieval.hybrid.MIN_POST_FILTER_POOL", 1)
    monkeypatch.setattr("rag.retrieval.hybrid.MAX_POST_FILTER_FETCH", 10_000)
    for n in range(3):
        wide_store.add(f"rare{n}", "Rare", [f"Ferry vote {n} in a rare outlet."], source="Rare")
    retriever = make(wide_store)
    retriever.invoke("ferry")
    wide_store.where_seen.clear()
    docs = retriever._dense("ferry vote", 30, SearchFilters(outlets=["Rare"]))
    assert {d.metadata["article_id"] for d, _ in docs} == {"rare0", "rare1", "rare2"}
    assert wide_store.where_seen == [None, {"source": {"$in": ["Rare"]}}]


def test_article_filter_goes_to_the_store_filter(wide_store):
    make(wide_store, retrieval_mode="dense").invoke("ferry", filters={"article_ids": ["a3"]})
    assert wide_store.where_seen[-1] == {"article_id": {"$in": ["a3"]}}


def test_filter_matches_agrees_with_to_where():
    f = SearchFilters(outlets=["AP"], since=date(2025, 1, 1), until=date(2025, 1, 31))
    assert f.matches({"source": "AP", "published_int": 20250115})
    assert not f.matches({"source": "AP", "published_int": 20250201})
    assert not f.matches({"source": "Reuters", "published_int": 20250115})
    assert not f.matches({"source": "AP"})  # undated chunks fail a date range, as in Chroma
