"""Answer speed in one run: runtimes side by side, time to first token, ingest vs embedder.

Runs, one after another on the same machine (each a child process, so one model at a time):

1. ``bench_runtime.py``: prompt / generation tok/s of the installed runtime, of another
   interpreter's runtime (``--native-python``, e.g. a venv after ``make native-llm``) and
   of ``llama-bench`` (``--llama-bench``), the limit of this CPU.
2. ``bench_ttft.py``: first token and whole answer per ``full`` suite question, and the
   prompt-cache reuse on consecutive questions, with the installed runtime; then (with
   ``--native-python``) the suite again with the other one.
3. ``bench_ingest.py --skip-memory``: ingest chunks/s against the bare embedder.

Then writes ``benchmarks/results/bench_speed.json``: the machine's load before and after
each step and every goal of the speed work as measured / goal.

Usage:
    .venv/bin/python benchmarks/bench_speed.py
    .venv/bin/python benchmarks/bench_speed.py --native-python /path/native-venv/bin/python \\
        --llama-bench /path/llama.cpp/build/bin/llama-bench --articles 300

Run it alone on an idle machine (~30 minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
sys.path.insert(0, str(BENCH))

from common import write_results  # noqa: E402

GOALS = {
    "default_prompt_vs_best": 0.95,
    "default_gen_vs_best": 0.95,
    "first_token_s_p50": 4.0,
    "total_s_p50": 8.0,
    "ingest_vs_embedder": 0.9,
}


def step(name: str, command: list[str], log: list[dict[str, Any]]) -> None:
    """Run one benchmark script, recording the load around it."""
    print(f"== {name}: {' '.join(command)}", flush=True)
    entry: dict[str, Any] = {"step": name, "load_before": os.getloadavg()}
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, check=False)
    entry |= {
        "seconds": round(time.perf_counter() - started, 1),
        "exit": done.returncode,
        "load_after": os.getloadavg(),
    }
    log.append(entry)


def _read(name: str) -> dict[str, Any]:
    path = RESULTS / name
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def goals(runtime: dict, ttft: dict, native_ttft: dict, ingest: dict) -> dict[str, Any]:
    """Each goal: the measured value, the goal, met or not.

    Example:
        >>> goals({"vs_best": {"default": {"prompt_vs_best": 0.7, "gen_vs_best": 1.0}}},
        ...       {}, {}, {})["default_prompt_vs_best"]
        {'measured': 0.7, 'goal': 0.95, 'met': False}
    """
    default = runtime.get("vs_best", {}).get("default", {})
    measured: dict[str, Any] = {
        "default_prompt_vs_best": default.get("prompt_vs_best"),
        "default_gen_vs_best": default.get("gen_vs_best"),
        "ingest_vs_embedder": ingest.get("throughput", {}).get("ratio_ingest_to_embedding_only"),
    }
    for label, data in (("", ttft), ("native_", native_ttft)):
        stats = data.get("suite", {}).get("all", {})
        for name in ("first_token_s", "total_s"):
            if name in stats:
                measured[f"{label}{name}_p50"] = stats[name]["p50"]
    out = {}
    for name, value in measured.items():
        goal = GOALS[name.removeprefix("native_")]
        if value is None:
            continue
        met = value <= goal if name.endswith("_s_p50") else value >= goal
        out[name] = {"measured": value, "goal": goal, "met": met}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--native-python", default=None, help="Interpreter of a native build.")
    parser.add_argument("--llama-bench", default=None, help="Path of a llama-bench binary.")
    parser.add_argument("--articles", type=int, default=300, help="Articles for ingest.")
    parser.add_argument("--limit", type=int, default=None, help="First N suite questions.")
    args = parser.parse_args()
    python = sys.executable
    log: list[dict[str, Any]] = []
    runtime = [python, "benchmarks/bench_runtime.py", "--repeats", "3"]
    runtime += ["--python", args.native_python] if args.native_python else []
    runtime += ["--llama-bench", args.llama_bench] if args.llama_bench else []
    step("runtime", runtime, log)
    limit = ["--limit", str(args.limit)] if args.limit else []
    step("ttft", [python, "benchmarks/bench_ttft.py", *limit], log)  # + prompt-cache reuse
    if args.native_python:
        out = str(RESULTS / "bench_ttft_native.json")
        ttft = [args.native_python, "benchmarks/bench_ttft.py", "--only", "suite", *limit]
        step("ttft native", [*ttft, "--out", out], log)
    ingest = [python, "benchmarks/bench_ingest.py", "--skip-memory"]
    step("ingest", [*ingest, "--articles", str(args.articles)], log)
    results = {
        "machine": {"cpus": os.cpu_count()},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "steps": log,
        "goals": goals(
            _read("bench_runtime.json"),
            _read("bench_ttft.json"),
            _read("bench_ttft_native.json") if args.native_python else {},
            _read("bench_ingest.json"),
        ),
    }
    print(json.dumps(results["goals"], indent=2))
    write_results(RESULTS / "bench_speed.json", results)


if __name__ == "__main__":
    main()
