"""BM25 side of retrieval: first build, keeping in step after a change, and query time.

The retriever's BM25 index (:class:`rag.retrieval.lexical.ChunkIndex`) is built once, on the first
query, and afterwards follows the store per article: when the store's generation moves
(any ingest or delete, in any process) it reads the chunk manifest and fetches only the
chunks of added or changed articles. This measures, over generated news-like chunks at
several corpus sizes: the first build, the sync after adding, rewriting and deleting one
article (the ratio to the first build is what incremental saves), and query latency.

Usage:
    .venv/bin/python benchmarks/bench_bm25.py                  # 10k and 100k chunks
    .venv/bin/python benchmarks/bench_bm25.py --sizes 1000,10000
Writes benchmarks/results/bench_bm25.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_bm25.json"
WORDS = [
    "council",
    "minister",
    "said",
    "vote",
    "rate",
    "inflation",
    "flood",
    "rain",
    "troops",
    "ukraine",
    "nato",
    "market",
    "bank",
    "price",
    "budget",
    "election",
    "mayor",
    "police",
    "court",
    "strike",
    "harbour",
    "ferry",
    "school",
    "hospital",
    "energy",
    "talks",
    "ceasefire",
    "sanctions",
    "summit",
    "report",
    "officials",
    "residents",
    "percent",
    "million",
    "billion",
]
QUERIES = ["council vote on the harbour budget", "flood warnings for residents", "nato troops"]


class GeneratedStore:
    """Just enough of ArticleStore for the BM25 index: generation, manifest, chunks by id."""

    def __init__(self, chunks: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.vocabulary = WORDS + [f"name{i}" for i in range(20_000)]
        self.rows: dict[str, tuple[str, dict[str, Any]]] = {}
        self.manifest: dict[str, list[str]] = {}
        self.version = 0
        for n in range(chunks // 4):
            self.put(f"a{n}")

    def put(self, article_id: str, version: int = 1) -> None:
        """Store (or replace) a four-chunk article."""
        self.drop(article_id)
        ids = [f"{article_id}:{version}:{i}" for i in range(4)]
        for i, cid in enumerate(ids):
            words = self.rng.choices(self.vocabulary, k=self.rng.randint(90, 160))
            meta = {"article_id": article_id, "chunk_index": i, "title": f"Story {article_id}"}
            self.rows[cid] = (" ".join(words), meta | {"source": "Wire"})
        self.manifest[article_id] = ids
        self.version += 1

    def drop(self, article_id: str) -> None:
        """Delete an article's chunks."""
        for cid in self.manifest.pop(article_id, []):
            del self.rows[cid]
        self.version += 1

    def generation(self) -> str:
        return str(self.version)

    def chunk_manifest(self) -> dict[str, list[str]]:
        return {a: list(ids) for a, ids in self.manifest.items()}

    def get_chunks(self, ids: list[str]) -> list[Any]:
        from langchain_core.documents import Document

        return [Document(id=c, page_content=self.rows[c][0], metadata=self.rows[c][1]) for c in ids]


def timed(action: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one call."""
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(chunks: int) -> dict[str, Any]:
    """Build, sync and query timings for one corpus size."""
    from rag.retrieval.lexical import ChunkIndex, bm25_tokenize

    store = GeneratedStore(chunks)
    index = ChunkIndex(store)
    build, build_cpu = timed(index.sync)
    syncs = {}
    for name, change in (
        ("add_one_article", lambda: store.put("new")),
        ("rewrite_one_article", lambda: store.put("a1", version=2)),
        ("delete_one_article", lambda: store.drop("a2")),
    ):
        change()
        wall, cpu = timed(index.sync)
        syncs[name] = {"seconds": round(wall, 4), "cpu_seconds": round(cpu, 4)}
    times = []
    for _ in range(20):
        for query in QUERIES:
            start = time.perf_counter()
            index.search(bm25_tokenize(query), 20)
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    slowest_sync = max(v["seconds"] for v in syncs.values())
    return {
        "chunks": chunks,
        "first_build_seconds": round(build, 2),
        "first_build_cpu_seconds": round(build_cpu, 2),
        "sync_after_change": syncs,
        "slowest_sync_vs_first_build": round(slowest_sync / build, 5),
        "query_ms_p50": round(statistics.median(times), 2),
        "query_ms_p95": round(times[int(len(times) * 0.95) - 1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated chunk counts")
    args = parser.parse_args()
    runs = []
    for size in (int(s) for s in args.sizes.split(",")):
        run = measure(size)
        print(json.dumps(run), flush=True)
        runs.append(run)
    results = {
        "machine": {"cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()]},
        "runs": runs,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
