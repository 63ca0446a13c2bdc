"""Answer latency, split: retrieval, prompt processing, generation, first token and total.

Runs the ``full`` eval suite's questions (evals/datasets/full_qa.jsonl, follow-ups with
their history) through ``NewsRAG.stream`` over samples/ + evals/corpus/ with the embedded
model, answer cache off, after the background warm-up has finished. Per question it takes
the wall-clock first-token and total times from the stream, retrieval and condensing from
the answer's own timings, and prompt processing and generation from the llama.cpp
server's counters (``/metrics``), which also tell how many prompt tokens were processed
versus taken from the prompt cache.

Two parts:

* ``cache``: prompt-prefix reuse on a few consecutive questions (a new question, another,
  a follow-up, a rephrased repeat) with ``--cache-reuse`` off and on: tokens processed
  vs cached per question.
* ``suite``: every question of the suite (``--limit N`` for the first N), p50/p95 of each
  part, against the goals (first token p50 <= 4 s, whole answer p50 <= 8 s).

Usage:
    .venv/bin/python benchmarks/bench_ttft.py                    # both parts, all questions
    .venv/bin/python benchmarks/bench_ttft.py --only suite --limit 3

Writes benchmarks/results/bench_ttft.json, or ``--out FILE`` (parts not run are kept from
the last run).
Run it alone on an idle machine: two cores shared with anything else halve the speed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from common import percentile, write_results  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_ttft.json"
DATASET = ROOT / "evals" / "datasets" / "full_qa.jsonl"
CORPUS = [ROOT / "samples", ROOT / "evals" / "corpus"]
GOALS = {"first_token_s_p50": 4.0, "total_s_p50": 8.0}
MEASURES = (
    "retrieve_s",
    "condense_s",
    "prompt_s",
    "generate_s",
    "first_token_s",
    "total_s",
    "prompt_tokens",
    "prompt_tokens_processed",
    "prompt_tokens_cached",
    "completion_tokens",
)
CACHE_SCENARIO: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("new question", "What did Hegseth rule out?", []),
    ("another question", "Who won the Westfield mayoral election?", []),
    (
        "follow-up",
        "What did she sign on her first day?",
        [("Who won the Westfield mayoral election?", "Ana Ruiz won the election [1].")],
    ),
    ("rephrased repeat", "What did Pete Hegseth rule out for Ukraine?", []),
]


def _settings(work: Path, model_dir: Path | None, **overrides: Any) -> Any:
    from rag.settings import load_settings

    values: dict[str, Any] = {
        "data_dir": work,
        "collection": "bench-ttft",
        "answer_cache_size": 0,
        "llm_temperature": 0.0,
        "llm_warmup": True,
        **overrides,
    }
    if model_dir:
        values["model_dir"] = model_dir
    return load_settings(**values)


def _service(settings: Any) -> tuple[Any, dict[str, float]]:
    """A warmed-up NewsRAG over the corpus, and how long each warm-up step took."""
    from rag.service import NewsRAG

    service = NewsRAG.from_settings(settings)
    if service.stats().chunks == 0:
        report = service.ingest([p for p in CORPUS if p.exists()])
        print(f"ingested {report.added} articles, {report.chunks_added} chunks")
    warmup = service.warm_up(background=False)
    if warmup.state != "ready":
        raise SystemExit(f"warm-up failed: {warmup.error}")
    return service, dict(warmup.seconds)


def _server(service: Any) -> Any:
    from rag.models.llm_server import running_servers

    servers = running_servers()
    if not servers:
        raise SystemExit("no embedded model server: unset RAG_LLM_BASE_URL to benchmark it")
    return servers[0]


def measure(service: Any, server: Any, question: str, history: list) -> dict[str, Any]:
    """One question through ``service.stream``: wall-clock times plus the server's split."""
    from rag.qa.answer import Answer

    before = server.metrics()
    started = time.perf_counter()
    first, answer = None, None
    for piece in service.stream(question, history=history or None):
        if isinstance(piece, Answer):
            answer = piece
        elif first is None and piece:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    after = server.metrics()
    assert answer is not None

    def delta(name: str) -> float:
        return after.get(name, 0.0) - before.get(name, 0.0)

    processed = int(delta("prompt_tokens_total"))
    prompt_tokens = answer.prompt_tokens or 0
    return {
        "retrieve_s": round(answer.timings.get("retrieve", 0.0), 3),
        "condense_s": round(answer.timings.get("condense", 0.0), 3),
        "prompt_s": round(delta("prompt_seconds_total"), 3),
        "generate_s": round(delta("tokens_predicted_seconds_total"), 3),
        "first_token_s": round(first if first is not None else total, 3),
        "total_s": round(total, 3),
        "prompt_tokens": prompt_tokens,
        "prompt_tokens_processed": processed,
        "prompt_tokens_cached": max(0, prompt_tokens - processed),
        "completion_tokens": answer.completion_tokens or 0,
        "model_called": prompt_tokens > 0,
        "abstained": answer.abstained,
        "answer": answer.answer[:160],
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p95 of every measure over ``rows``, and the goals met or not.

    Example:
        >>> summarize([{"total_s": 1.0, "first_token_s": 0.5}])["total_s"]
        {'p50': 1.0, 'p95': 1.0}
    """
    stats: dict[str, Any] = {}
    for name in MEASURES:
        values = [float(r[name]) for r in rows if name in r]
        if values:
            stats[name] = {"p50": percentile(values, 50), "p95": percentile(values, 95)}
    for goal, limit in GOALS.items():
        name = goal.removesuffix("_p50")
        if name in stats:
            stats[f"goal_{goal}<={limit}"] = stats[name]["p50"] <= limit
    return stats


def run_cache(work: Path, model_dir: Path | None) -> dict[str, Any]:
    """Prompt tokens processed vs cached on consecutive questions, cache reuse off and on."""
    from rag.models.llm_server import stop_embedded_servers

    runs = []
    for reuse in (0, 256):
        stop_embedded_servers()  # the server keeps its first config: start a fresh one
        service, warmup = _service(_settings(work, model_dir, llm_cache_reuse=reuse))
        server = _server(service)
        rows = []
        for label, question, history in CACHE_SCENARIO:
            row = {"step": label, "question": question}
            row |= measure(service, server, question, history)
            rows.append(row)
            print(f"  cache_reuse={reuse} {json.dumps(row)[:240]}")
        runs.append({"config": f"cache_reuse={reuse}", "warmup_s": warmup, "questions": rows})
    stop_embedded_servers()
    return {"runs": runs, "load_average": os.getloadavg()}


def run_suite(work: Path, model_dir: Path | None, limit: int | None) -> dict[str, Any]:
    """Every suite question (or the first ``limit``), measured one after another."""
    cases = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines()]
    cases = [c for c in cases if c.get("question")][:limit]
    started = time.perf_counter()
    service, warmup = _service(_settings(work, model_dir))
    startup = time.perf_counter() - started
    server = _server(service)
    rows = []
    for case in cases:
        history = [tuple(turn) for turn in case.get("history") or []]
        row = {"id": case["id"], "type": case["type"]}
        row |= measure(service, server, case["question"], history)
        rows.append(row)
        print(f"  {json.dumps(row)[:240]}")
    called = [r for r in rows if r["model_called"]]
    return {
        "questions": len(rows),
        "model_called": len(called),
        "startup_s": round(startup, 2),
        "warmup_s": warmup,
        "all": summarize(rows),
        "model_called_only": summarize(called),
        "rows": rows,
    }


def _machine() -> dict[str, Any]:
    from rag.models.llm import _runtime_version

    info: dict[str, Any] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()}
    info["runtime"] = _runtime_version()
    try:
        import xllamacpp

        info["runtime_cpu_features"] = xllamacpp.get_system_info().strip()
    except Exception:  # the runtime is optional
        pass
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["cache", "suite"], action="append")
    parser.add_argument("--limit", type=int, default=None, help="First N suite questions.")
    parser.add_argument("--model-dir", type=Path, default=None, help="Folder of the GGUF file.")
    parser.add_argument("--work-dir", type=Path, default=None, help="Reuse the store here.")
    parser.add_argument("--out", type=Path, default=RESULTS, help="Results file.")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.WARNING)
    parts = args.only or ["cache", "suite"]
    env_model_dir = os.environ.get("NEWS_RAG_TEST_MODEL_DIR")
    model_dir = args.model_dir or (Path(env_model_dir) if env_model_dir else None)
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text(encoding="utf-8"))
    results["machine"] = _machine()
    results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="bench-ttft-") as tmp:
        work = args.work_dir or Path(tmp)
        if "cache" in parts:
            results["cache"] = run_cache(work, model_dir)
        if "suite" in parts:
            results["suite"] = run_suite(work, model_dir, args.limit)
            results["suite"]["limit"] = args.limit
    write_results(args.out, results)


if __name__ == "__main__":
    main()
