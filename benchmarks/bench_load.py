"""The app under load: N concurrent ``gradio_client`` users asking questions.

Ingests ``evals/corpus`` with ``news-rag ingest``, starts ``python app.py`` on the same
store (which adds the sample articles) with the embedded model, then for N = 1, 4 and 16
users runs N client threads at once, each asking its share of the answerable questions
of ``evals/datasets/full_qa.jsonl`` through the app's ``/ask`` API. Every question is
asked once in the whole run and the answer cache is off (``RAG_ANSWER_CACHE_SIZE=0``), so
each request is new work for the model (the model server's prompt cache cannot serve
it either): the worst case. Reported per N: requests, errors, answers per minute,
latency p50/p95/max, and how many answers were refusals.

The target is zero errors: with one model on two cores, requests queue in the app
(``RAG_UI_CONCURRENCY=1``) and latency grows with N instead of requests failing.

Usage:
    .venv/bin/python benchmarks/bench_load.py                      # N = 1, 4, 16
    .venv/bin/python benchmarks/bench_load.py --users 1,4 --model-dir data/models
Writes benchmarks/results/bench_load.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import percentile, write_results

from rag.child_server import app_environment, free_port, serving

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_load.json"
DATASET = ROOT / "evals" / "datasets" / "full_qa.jsonl"
CORPUS = ROOT / "evals" / "corpus"
QUESTIONS_PER_ROUND = 12


def questions() -> list[str]:
    """Answerable questions over the sample articles and ``evals/corpus``."""
    rows = [json.loads(line) for line in DATASET.read_text(encoding="utf-8").splitlines()]
    return [r["question"] for r in rows if r.get("type") != "unanswerable"]


@contextlib.contextmanager
def running_app(data_dir: Path, model_dir: Path | None, timeout: float = 900) -> Iterator[str]:
    """``python app.py`` on a free loopback port, samples ingested; yield its URL."""
    port = free_port()
    env = app_environment(data_dir, port, RAG_ANSWER_CACHE_SIZE="0")
    if model_dir:
        env["RAG_MODEL_DIR"] = str(model_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    news_rag = Path(sys.executable).with_name("news-rag")
    subprocess.run([str(news_rag), "ingest", str(CORPUS)], env=env, check=True)
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, str(ROOT / "app.py")]
    log = data_dir / "app.log"
    with serving(command, url, log_path=log, env=env, cwd=ROOT, timeout=timeout):
        yield url


def run_users(url: str, users: int, asks: list[list[str]]) -> dict[str, Any]:
    """``users`` clients at once, client ``i`` asking ``asks[i]`` in turn."""
    from gradio_client import Client

    latencies: list[float] = []
    errors: list[str] = []
    refusals = 0
    lock = threading.Lock()
    barrier = threading.Barrier(users)

    def user(mine: list[str]) -> None:
        nonlocal refusals
        client = Client(url, verbose=False, download_files=False)
        barrier.wait()
        for question in mine:
            start = time.perf_counter()
            try:
                answer = client.predict(question, api_name="/ask")
            except Exception as error:  # every failure is a finding
                with lock:
                    errors.append(f"{type(error).__name__}: {error}")
                continue
            with lock:
                latencies.append(time.perf_counter() - start)
                refusals += bool(answer.get("abstained"))

    threads = [threading.Thread(target=user, args=(asks[i],)) for i in range(users)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {
        "users": users,
        "requests": sum(len(a) for a in asks),
        "errors": len(errors),
        "error_samples": errors[:3],
        "wall_s": round(wall, 1),
        "answers_per_minute": round(len(latencies) / wall * 60, 2),
        "latency_p50_s": round(percentile(latencies, 50), 1) if latencies else None,
        "latency_p95_s": round(percentile(latencies, 95), 1) if latencies else None,
        "latency_max_s": round(max(latencies), 1) if latencies else None,
        "refusals": refusals,
    }


def plan(users: int, pool: list[str], total: int) -> list[list[str]]:
    """Take ``total`` unused questions off ``pool`` and deal them out to ``users`` clients."""
    if len(pool) < total:
        raise SystemExit(f"only {len(pool)} unused questions left for a round of {total}")
    taken = [pool.pop(0) for _ in range(total)]
    return [taken[u::users] for u in range(users)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", default="1,4,16", help="Concurrent users per round.")
    parser.add_argument(
        "--questions",
        type=int,
        default=QUESTIONS_PER_ROUND,
        help="Questions per round (at least one per user).",
    )
    env_dir = os.environ.get("NEWS_RAG_TEST_MODEL_DIR")
    parser.add_argument(
        "--model-dir",
        type=Path,
        default=Path(env_dir) if env_dir else ROOT / "data" / "models",
        help="Folder holding the assembled model file (reused, not rebuilt).",
    )
    args = parser.parse_args()
    pool = questions()
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "answer_cache": "off",
        "rounds": [],
    }
    with (
        tempfile.TemporaryDirectory(prefix="bench-load-") as tmp,
        running_app(Path(tmp) / "data", args.model_dir) as url,
    ):
        warm = run_users(url, 1, plan(1, pool, 1))  # model load and first answer
        results["warm_up_s"] = warm["wall_s"]
        for users in (int(n) for n in args.users.split(",")):
            row = run_users(url, users, plan(users, pool, max(args.questions, users)))
            results["rounds"].append(row)
            print(json.dumps(row), flush=True)
    write_results(RESULTS, results)


if __name__ == "__main__":
    main()
