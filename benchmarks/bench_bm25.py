"""BM25 side of retrieval: how long the index snapshot takes to rebuild, and to query.

The retriever keeps an immutable BM25 snapshot of the store's chunks and rebuilds it when
the store's generation moves (any ingest or delete, in any process). This measures that
rebuild -- tokenizing every chunk and indexing it with bm25s -- over generated news-like
chunks, at several corpus sizes, plus the query time on the built snapshot.

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
from collections.abc import Iterator
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
    """Just enough of ArticleStore for the BM25 snapshot: chunks in batches."""

    def __init__(self, chunks: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        vocabulary = WORDS + [f"name{i}" for i in range(20_000)]
        self.rows = [
            (
                f"a{n // 4}:1:{n % 4}",
                " ".join(rng.choice(vocabulary) for _ in range(rng.randint(90, 160))),
                {"article_id": f"a{n // 4}", "title": f"Story {n // 4}", "source": "Wire"},
            )
            for n in range(chunks)
        ]

    def iter_chunks(self, batch: int = 1000) -> Iterator[list[tuple[str, str, dict[str, Any]]]]:
        for start in range(0, len(self.rows), batch):
            yield self.rows[start : start + batch]


def measure(chunks: int) -> dict[str, Any]:
    """Rebuild and query timings for one corpus size."""
    from rag.retrieval import SearchFilters, _Corpus

    store = GeneratedStore(chunks)
    cpu, wall = time.process_time(), time.perf_counter()
    corpus = _Corpus.build(store, generation="bench")
    rebuild = time.perf_counter() - wall
    rebuild_cpu = time.process_time() - cpu
    times = []
    for _ in range(20):
        for query in QUERIES:
            start = time.perf_counter()
            corpus.search(query, 20, SearchFilters())
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "chunks": chunks,
        "rebuild_seconds": round(rebuild, 2),
        "rebuild_cpu_seconds": round(rebuild_cpu, 2),
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
