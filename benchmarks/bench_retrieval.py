"""Retrieval latency: dense, BM25 and hybrid, embedded Chroma and a Chroma server.

For each corpus size (1k, 10k, 100k chunks by default) a store is filled with generated
news-like chunks (sentences drawn from samples/, eight chunks per article, five outlets,
dates over a year) and, so that 100k chunks take minutes rather than an hour of
embedding, random unit vectors in place of real embeddings: the HNSW search costs the
same, and random vectors are its hard case. Registry records are written as ingest
writes them, so the BM25 index syncs from the store the way it does in the app; the
cost of that sync after one real ingest and one delete is measured too.

Each question is timed end to end through ``HybridRetriever.invoke``: the query
embedding with the real MiniLM model, the Chroma search, BM25 and fusion. The first
query (which builds the BM25 index) is reported apart; p50/p95 are over the rest. The
server runs are against ``chroma run`` started here, on the same machine.

Usage:
    .venv/bin/python benchmarks/bench_retrieval.py                     # 1k, 10k, 100k
    .venv/bin/python benchmarks/bench_retrieval.py --sizes 1000 --modes embedded
Writes benchmarks/results/bench_retrieval.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from common import percentile, write_results

from rag.child_server import free_port, serving

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_retrieval.json"
OUTLETS = ["Civic Wire", "The Meridian Post", "Northbridge Herald", "Daily Bugle", "Wire"]
QUESTIONS = [
    "What did Hegseth rule out?",
    "Who did Vance meet in Munich?",
    "How many residents were evacuated in the Ardent Valley floods?",
    "How much was Corvane fined?",
    "What share of the vote did Ana Ruiz win?",
    "What was the score of the Continental Cup final?",
    "How big is Lakeport's transit budget?",
    "What did the central bank do with interest rates?",
    "Which bridges collapsed after the storm?",
    "What did the council decide about the harbour?",
]
CHUNKS_PER_ARTICLE = 8


def sample_sentences() -> list[str]:
    """Sentences of the sample articles (markup stripped), the material of generated chunks."""
    sentences: list[str] = []
    for path in sorted(ROOT.joinpath("samples").glob("*.*")):
        text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 6]
    return sentences


def fill(store: Any, size: int, batch: int = 2000) -> None:
    """Write ``size`` generated chunks and their articles' registry records."""
    import numpy as np

    from rag.store.records import PLACEHOLDER_VECTOR

    sentences = sample_sentences()
    rng = random.Random(7)
    vectors = np.random.default_rng(7).normal(size=(size, 384)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for start in range(0, size, batch):
        ids, docs, metas, articles = [], [], [], {}
        for i in range(start, min(size, start + batch)):
            article, index = i // CHUNKS_PER_ARTICLE, i % CHUNKS_PER_ARTICLE
            day = 20240101 + (article % 12) * 100 + article % 28
            meta = {
                "article_id": f"synthetic{article}",
                "title": f"Generated article {article}",
                "source": OUTLETS[article % len(OUTLETS)],
                "url": f"https://news.example/{article}",
                "published": f"{day // 10000}-{day // 100 % 100:02d}-{day % 100:02d}",
                "published_int": day,
                "version": 1,
            }
            text = " ".join(rng.sample(sentences, 5))
            ids.append(f"synthetic{article}:1:{index}")
            docs.append(text)
            metas.append(meta | {"chunk_index": index, "start": index * 900, "end": 0})
            articles[meta["article_id"]] = meta | {"kind": "article", "status": "complete"}
        store.collection.upsert(
            ids=ids, documents=docs, metadatas=metas, embeddings=vectors[start : start + len(ids)]
        )
        counts = {a: sum(1 for m in metas if m["article_id"] == a) for a in articles}
        store.registry.upsert(
            ids=list(articles),
            documents=["" for _ in articles],
            metadatas=[
                m | {"chunks": CHUNKS_PER_ARTICLE if counts[a] else 0} for a, m in articles.items()
            ],
            embeddings=[PLACEHOLDER_VECTOR for _ in articles],
        )
    store._journal.bump_generation()


@contextmanager
def chroma_server(path: Path, timeout: float = 90.0) -> Iterator[str]:
    """Run ``chroma run`` on a free loopback port for the duration; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    chroma = Path(sys.executable).with_name("chroma")
    command = [str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    log = path.parent / "chroma.log"
    with serving(command, f"{url}/api/v2/heartbeat", log_path=log, timeout=timeout):
        yield url


def time_modes(store: Any, data_dir: Path, repeats: int) -> dict[str, Any]:
    """p50/p95 per retrieval mode, unfiltered and with an outlet filter."""
    from rag.retrieval.hybrid import HybridRetriever, SearchFilters
    from rag.settings import load_settings

    results: dict[str, Any] = {}
    for mode in ("dense", "bm25", "hybrid"):
        settings = load_settings(data_dir=data_dir, retrieval_mode=mode)
        retriever = HybridRetriever.from_settings(store, settings)
        start = time.perf_counter()
        retriever.invoke("warm up the index and the embedder")
        first = time.perf_counter() - start
        timings, filtered = [], []
        outlet = SearchFilters(outlets=["Civic Wire"])
        for _ in range(repeats):
            for question in QUESTIONS:
                start = time.perf_counter()
                retriever.invoke(question)
                timings.append((time.perf_counter() - start) * 1000)
                start = time.perf_counter()
                retriever.invoke(question, filters=outlet)
                filtered.append((time.perf_counter() - start) * 1000)
        results[mode] = {
            "p50_ms": round(percentile(timings, 50), 1),
            "p95_ms": round(percentile(timings, 95), 1),
            "filtered_p50_ms": round(percentile(filtered, 50), 1),
            "filtered_p95_ms": round(percentile(filtered, 95), 1),
            "first_query_s": round(first, 2),
            "queries": len(timings) + len(filtered),
        }
    return results


def time_bm25_sync(store: Any) -> dict[str, float]:
    """First BM25 build from the store, then the sync after one real ingest and one delete."""
    from rag.ingest.article import Article
    from rag.retrieval.lexical import ChunkIndex

    index = ChunkIndex(store)
    start = time.perf_counter()
    index.sync()
    build = time.perf_counter() - start
    article = Article.create(
        title="Harbour ferry strike ends",
        text="Ferry workers ended their strike on Friday after the harbour authority agreed "
        "to a 4.5% pay rise. Services resume on Monday, the union said.",
        outlet="Civic Wire",
    )
    store.add_articles([article])
    start = time.perf_counter()
    index.sync()
    after_ingest = time.perf_counter() - start
    store.delete([article.id])
    start = time.perf_counter()
    index.sync()
    after_delete = time.perf_counter() - start
    return {
        "first_build_s": round(build, 2),
        "sync_after_ingest_s": round(after_ingest, 3),
        "sync_after_delete_s": round(after_delete, 3),
    }


def measure(mode: str, size: int, work: Path, repeats: int) -> dict[str, Any]:
    """Fill a fresh store of ``size`` chunks (embedded or server) and time retrieval."""
    from rag.models.embeddings import LocalEmbeddings
    from rag.settings import load_settings
    from rag.store.articles import ArticleStore

    data_dir = work / f"{mode}-{size}"
    data_dir.mkdir(parents=True)
    with _maybe_server(mode, data_dir) as url:
        settings = load_settings(data_dir=data_dir, chroma_url=url)
        store = ArticleStore.from_settings(settings, LocalEmbeddings())
        start = time.perf_counter()
        fill(store, size)
        entry: dict[str, Any] = {"chunks": store.stats().chunks}
        entry["fill_s"] = round(time.perf_counter() - start, 1)
        entry |= time_modes(store, data_dir, repeats)
        entry["bm25_index"] = time_bm25_sync(store)
        store.close()
    return entry


@contextmanager
def _maybe_server(mode: str, data_dir: Path) -> Iterator[str | None]:
    if mode == "server":
        with chroma_server(data_dir / "chroma-server") as url:
            yield url
    else:
        yield None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="Chunk counts.")
    parser.add_argument("--modes", default="embedded,server", help="embedded and/or server.")
    parser.add_argument("--repeats", type=int, default=3, help="Rounds over the questions.")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "vectors": "random unit vectors (384-d); queries embedded with the real MiniLM model",
        "target_hybrid_p95_ms_at_100k": 100,
    }
    with tempfile.TemporaryDirectory(prefix="bench-retrieval-") as tmp:
        for mode in args.modes.split(","):
            for size in (int(s) for s in args.sizes.split(",")):
                entry = measure(mode, size, Path(tmp), args.repeats)
                results.setdefault(mode, {})[str(size)] = entry
                print(json.dumps({"mode": mode, "size": size, **entry}), flush=True)
    write_results(RESULTS, results)


if __name__ == "__main__":
    main()
