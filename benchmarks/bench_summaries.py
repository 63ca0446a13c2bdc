"""Benchmark summaries with the embedded model: latency per style, cache hits, digests, tokens.

Run:
    .venv/bin/python benchmarks/bench_summaries.py   # -> benchmarks/results/bench_summaries.json
    .venv/bin/python benchmarks/bench_summaries.py --repeat 2 --model-dir /tmp/nr-models

Measures, over samples/ ingested into a fresh embedded store:
- per style (brief, bullets, headline, quotes) for the sample article closest to 800 words:
  time to first token, total latency, prompt tokens (the server's count, and our
  estimate), generated tokens, LLM calls, whether the output passed the checks;
- cache-hit latency (target < 50 ms), in the same process and in a fresh Summarizer;
- digest time for 5 articles: cold (5 brief summaries + the reduce step) and warm
  (cached briefs, reduce only).
The CPU may be shared with other work: the load average is recorded with the results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.ingest.pipeline import ingest_locations  # noqa: E402
from rag.models.embeddings import LocalEmbeddings  # noqa: E402
from rag.models.llm import build_chat_model, describe_llm  # noqa: E402
from rag.retrieval.hybrid import HybridRetriever  # noqa: E402
from rag.settings import load_settings  # noqa: E402
from rag.store.articles import ArticleStore  # noqa: E402
from rag.summaries.request import DigestRequest  # noqa: E402
from rag.summaries.results import Summary  # noqa: E402
from rag.summaries.styles import STYLES  # noqa: E402
from rag.summaries.summarizer import Summarizer  # noqa: E402
from rag.text import estimate_llm_tokens  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_summaries.json"
TARGET_WORDS = 800
CACHE_HITS = 50


def load() -> list[float]:
    """The 1-minute load average (how busy the shared CPU was)."""
    return [round(x, 2) for x in os.getloadavg()]


def server_prompt_tokens(llm: Any, messages: list) -> int | None:
    """The server's own prompt-token count (1 generated token; the prompt is KV-cached)."""
    reply = llm.invoke(messages, max_tokens=1)
    usage = getattr(reply, "usage_metadata", None) or {}
    return usage.get("input_tokens")


def timed_stream(summarizer: Summarizer, article_id: str, style: str) -> dict[str, Any]:
    """Stream one fresh summary; time to first token and in total."""
    started = time.perf_counter()
    first = None
    summary: Summary | None = None
    for piece in summarizer.stream(article_id, style=style, refresh=True):
        if isinstance(piece, str) and piece.strip() and first is None:
            first = time.perf_counter() - started
        elif isinstance(piece, Summary):
            summary = piece
    total = time.perf_counter() - started
    assert summary is not None
    return {
        "seconds": round(total, 2),
        "first_token_seconds": round(first or total, 2),
        "method": summary.method,
        "llm_calls": summary.llm_calls,
        "completion_tokens": summary.completion_tokens,
        "faithful": summary.faithful,
        "issues": summary.issues,
        "notes": summary.notes,
        "text": summary.text,
    }


def bench_styles(summarizer: Summarizer, article: Any, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for style in STYLES:
        runs = [timed_stream(summarizer, article.id, style) for _ in range(repeat)]
        messages = summarizer.messages_for(article, style)
        real = server_prompt_tokens(summarizer.llm, messages)
        estimate = sum(estimate_llm_tokens(str(m.content)) for m in messages)
        results[style] = {
            "seconds": statistics.median(r["seconds"] for r in runs),
            "first_token_seconds": statistics.median(r["first_token_seconds"] for r in runs),
            "prompt_tokens": real,
            "prompt_tokens_estimate": estimate,
            "runs": runs,
            "load_after": load(),
        }
        print(
            f"{style:9s} {results[style]['seconds']:6.2f} s (first token "
            f"{results[style]['first_token_seconds']:.2f} s), prompt {real} tokens "
            f"(estimate {estimate}), faithful={runs[-1]['faithful']}"
        )
    return results


def bench_cache(summarizer: Summarizer, settings: Any, store: Any, article_id: str) -> dict:
    summarizer.summarize(article_id, style="brief")  # make sure it is cached
    same: list[float] = []
    for _ in range(CACHE_HITS):
        started = time.perf_counter()
        assert summarizer.summarize(article_id, style="brief").cached
        same.append((time.perf_counter() - started) * 1000)

    def no_model() -> Any:
        raise AssertionError("a cache hit must not start the model")

    fresh_ms: list[float] = []
    for _ in range(10):
        started = time.perf_counter()
        fresh = Summarizer(store, no_model, None, settings)
        assert fresh.summarize(article_id, style="brief").cached
        fresh_ms.append((time.perf_counter() - started) * 1000)
    result = {
        "hits": CACHE_HITS,
        "median_ms": round(statistics.median(same), 2),
        "p95_ms": round(sorted(same)[int(0.95 * len(same)) - 1], 2),
        "max_ms": round(max(same), 2),
        "fresh_summarizer_median_ms": round(statistics.median(fresh_ms), 2),
        "target_ms": 50,
    }
    print(f"cache hit median {result['median_ms']} ms, p95 {result['p95_ms']} ms")
    return result


def bench_digest(summarizer: Summarizer, ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"articles": len(ids)}
    for label, refresh in (("cold", True), ("warm", False)):
        started = time.perf_counter()
        digest = summarizer.digest(DigestRequest(article_ids=ids), refresh=refresh)
        seconds = time.perf_counter() - started
        out[label] = {
            "seconds": round(seconds, 2),
            "prompt_tokens": digest.prompt_tokens,
            "cached_summaries": sum(s.cached for s in digest.summaries),
            "uncited": digest.uncited,
            "invalid_markers": digest.invalid_markers,
            "faithful": digest.faithful,
            "issues": digest.issues,
            "text": digest.text,
            "load_after": load(),
        }
        print(f"digest of {len(ids)} ({label}): {seconds:.1f} s, uncited={digest.uncited}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="Runs per style (median kept).")
    parser.add_argument("--model-dir", type=Path, default=None, help="Assembled GGUF folder.")
    parser.add_argument("--skip-digest", action="store_true", help="Skip the digest runs.")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-summaries-"))
    overrides: dict[str, Any] = {"data_dir": data_dir}
    if args.model_dir:
        overrides["model_dir"] = args.model_dir
    settings = load_settings(**overrides)
    store = ArticleStore.from_settings(settings, LocalEmbeddings())
    report = ingest_locations([ROOT / "samples"], store, settings)
    print(f"ingested {len(report.article_ids)} articles into {data_dir}")

    started = time.perf_counter()
    llm = build_chat_model(settings)
    llm.invoke("Say OK.", max_tokens=2)
    model_start = time.perf_counter() - started
    print(f"model start + first reply: {model_start:.1f} s")

    retriever = HybridRetriever.from_settings(store, settings)
    summarizer = Summarizer(store, lambda: llm, retriever, settings)
    articles = [store.get_article(info.id) for info in store.list_articles()]
    article = min(articles, key=lambda a: abs(len(a.text.split()) - TARGET_WORDS))
    print(f"article: {article.title!r} ({len(article.text.split())} words)")

    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": load()},
        "llm": describe_llm(settings),
        "settings": {
            "llm_ctx_size": settings.llm_ctx_size,
            "llm_threads": settings.llm_threads,
            "llm_temperature": settings.llm_temperature,
        },
        "model_start_seconds": round(model_start, 2),
        "article": {"title": article.title, "words": len(article.text.split())},
        "styles": bench_styles(summarizer, article, args.repeat),
        "cache_hit": bench_cache(summarizer, settings, store, article.id),
    }
    if not args.skip_digest:
        newest = [a.id for a in sorted(articles, key=lambda a: a.published or "")][-5:]
        results["digest"] = bench_digest(summarizer, newest)
    results["machine"]["load_after"] = load()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
