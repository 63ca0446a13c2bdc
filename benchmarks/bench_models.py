"""Benchmark the local models: embedder throughput vs a bare onnxruntime session, and the
embedded LLM's load time, prompt and generation speed for a ~1,000-token prompt, peak RSS.

Run:
    .venv/bin/python benchmarks/bench_models.py   # -> benchmarks/results/bench_models.json
    .venv/bin/python benchmarks/bench_models.py --skip-llm

Targets: embedder overhead <= 10% over the bare session; prompt processing is reported
against the native llama.cpp build on 2 cores (~164 tok/s, DESIGN.md).
The CPU may be shared: each section records how busy the machine was just before it ran.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.models import embeddings as E  # noqa: E402
from rag.models import llm_server as S  # noqa: E402
from rag.models import model_file as M  # noqa: E402
from rag.settings import load_settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_models.json"
NATIVE_PROMPT_TOK_S = 164.0
NATIVE_GEN_TOK_S = 34.0

_WORD_TEXT = """
government minister said on Tuesday that the new budget would raise spending on schools
hospitals and roads while cutting taxes for small businesses opposition leaders called the
plan reckless and warned of rising debt as inflation slowed to its lowest level in three
years central bank officials signalled that interest rates could fall later this year
protesters gathered outside parliament demanding higher wages for nurses and teachers
the storm flooded villages along the coast forcing thousands of residents to leave their
homes rescue teams used boats to reach families trapped on rooftops
"""
WORDS = _WORD_TEXT.split()


def cpu_busy(interval: float = 1.0) -> float:
    """Fraction of the machine's CPU time spent busy over ``interval`` seconds (Linux)."""

    def snap() -> tuple[int, int]:
        values = list(map(int, Path("/proc/stat").read_text().splitlines()[0].split()[1:]))
        return sum(values), values[3] + values[4]

    try:
        total1, idle1 = snap()
        time.sleep(interval)
        total2, idle2 = snap()
    except OSError:
        return float("nan")
    return round(1 - (idle2 - idle1) / max(1, total2 - total1), 2)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def news_chunks(n: int, tokens: int = 200, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    tok = E.embedding_tokenizer()
    chunks = []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(int(tokens * 0.95))]
        text = " ".join(words).capitalize() + "."
        while len(tok.encode(text, add_special_tokens=False).ids) > tokens:
            text = " ".join(text.split()[:-3]) + "."
        chunks.append(text)
    return chunks


# --------------------------------------------------------------------------- embeddings
def bench_embeddings(n_texts: int, batch_size: int, threads: int, repeats: int) -> dict[str, Any]:
    import onnxruntime as ort

    texts = news_chunks(n_texts)
    ours = E.LocalEmbeddings(batch_size=batch_size, threads=threads).load()
    token_counts = [ours.count_tokens(t) for t in texts]

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    bare = ort.InferenceSession(
        str(E.default_model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    tokenizer = E.embedding_tokenizer()
    tokenizer.enable_padding()
    feeds = []  # pre-tokenized, dynamically padded batches: the bare session does inference only
    for start in range(0, len(texts), batch_size):
        encodings = tokenizer.encode_batch(texts[start : start + batch_size])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds.append(
            {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )

    def run_bare() -> None:
        for feed in feeds:
            bare.run(None, feed)

    def run_ours() -> None:
        ours.embed_documents(texts)

    run_bare(), run_ours()  # warm-up
    busy = cpu_busy()
    bare_times, our_times = [], []
    for _ in range(repeats):  # interleaved, best of N: robust to a shared CPU
        start = time.perf_counter()
        run_bare()
        bare_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_ours()
        our_times.append(time.perf_counter() - start)
    bare_s, ours_s = min(bare_times), min(our_times)
    return {
        "texts": n_texts,
        "mean_tokens": round(float(np.mean(token_counts)), 1),
        "batch_size": batch_size,
        "threads": threads,
        "bare_onnxruntime_texts_per_s": round(n_texts / bare_s, 1),
        "local_embeddings_texts_per_s": round(n_texts / ours_s, 1),
        "overhead_pct": round((ours_s / bare_s - 1) * 100, 1),
        "target_overhead_pct": 10.0,
        "cpu_busy_before": busy,
    }


# --------------------------------------------------------------------------- LLM
def _post(server: S.EmbeddedServer, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {server.api_key}"},
    )
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.load(response)


def long_prompt(seed: int, target_words: int = 860) -> str:
    rng = random.Random(seed)
    words = [rng.choice(WORDS) for _ in range(target_words)]
    sentences = [" ".join(words[i : i + 14]).capitalize() + "." for i in range(0, len(words), 14)]
    return "Article:\n" + " ".join(sentences)


def bench_llm(settings: Any, repeats: int, gen_tokens: int) -> dict[str, Any]:
    start = time.perf_counter()
    model_path = M.prepare_model(settings)
    prepare_s = time.perf_counter() - start
    config = S.ServerConfig.from_settings(settings, model_path)
    busy = cpu_busy()
    server = S.EmbeddedServer.start(config, timeout=settings.llm_startup_timeout)
    try:
        prompt_rates, gen_rates, prompt_tokens = [], [], []
        for i in range(repeats):
            reply = _post(
                server,
                {
                    "messages": [
                        {"role": "system", "content": "You summarize news articles."},
                        {"role": "user", "content": long_prompt(i) + "\n\nSummarize the article."},
                    ],
                    "max_tokens": gen_tokens,
                    "temperature": 0,
                    "cache_prompt": False,
                },
            )
            timings = reply["timings"]
            prompt_tokens.append(timings["prompt_n"])
            prompt_rates.append(timings["prompt_per_second"])
            gen_rates.append(timings["predicted_per_second"])
        # the same article with another question: llama.cpp reuses the cached prefix
        question = {"role": "user", "content": long_prompt(0) + "\n\nWho is mentioned?"}
        first = _post(server, {"messages": [question], "max_tokens": 8, "cache_prompt": True})
        again = dict(question, content=question["content"].replace("Who is", "What is"))
        cached = _post(server, {"messages": [again], "max_tokens": 8, "cache_prompt": True})
    finally:
        server.stop()
    best_prompt = max(prompt_rates)
    return {
        "model": model_path.name,
        "prepare_model_s": round(prepare_s, 2),
        "load_s": round(server.load_seconds, 2),
        "threads": config.threads,
        "batch_threads": config.batch_threads,
        "batch_size": config.batch_size,
        "ctx_size": config.ctx_size,
        "prompt_tokens": prompt_tokens[0],
        "prompt_tok_s": [round(r, 1) for r in prompt_rates],
        "prompt_tok_s_best": round(best_prompt, 1),
        "prompt_vs_native_pct": round(best_prompt / NATIVE_PROMPT_TOK_S * 100, 1),
        "gen_tokens": gen_tokens,
        "gen_tok_s": [round(r, 1) for r in gen_rates],
        "gen_tok_s_best": round(max(gen_rates), 1),
        "gen_vs_native_pct": round(max(gen_rates) / NATIVE_GEN_TOK_S * 100, 1),
        "cached_prefix_prompt_ms": {
            "cold": round(first["timings"]["prompt_ms"], 1),
            "warm": round(cached["timings"]["prompt_ms"], 1),
            "warm_tokens_processed": cached["timings"]["prompt_n"],
        },
        "native_reference": {"prompt_tok_s": NATIVE_PROMPT_TOK_S, "gen_tok_s": NATIVE_GEN_TOK_S},
        "cpu_busy_before": busy,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=256, help="embedding inputs (~200 tokens)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--gen-tokens", type=int, default=128)
    parser.add_argument("--skip-llm", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data")
    args = parser.parse_args()

    settings = load_settings(data_dir=args.data_dir)
    results: dict[str, Any] = {
        "machine": {"cpus": __import__("os").cpu_count(), "platform": platform.platform()},
        "embeddings": bench_embeddings(
            args.texts, settings.embedding_batch_size, settings.embedding_threads, args.repeats
        ),
    }
    results["peak_rss_mb_embeddings"] = round(peak_rss_mb(), 1)
    print(json.dumps({"embeddings": results["embeddings"]}, indent=2))
    if not args.skip_llm:
        results["llm"] = bench_llm(settings, args.repeats, args.gen_tokens)
        print(json.dumps({"llm": results["llm"]}, indent=2))
    results["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(f"peak RSS: {results['peak_rss_mb']} MB")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
