"""LLM runtime speed side by side: prompt processing and generation tok/s on one prompt.

Measures, one after another on the same ~500-token prompt of sample-article text (2
threads, batch 512, no prompt cache):

* ``default``: the xllamacpp installed with news-rag (``news-rag[local]``);
* each ``--python PATH``: the xllamacpp of another interpreter, e.g. a venv holding a
  build for this CPU (``make native-llm`` run in a copy of the venv);
* ``--llama-bench PATH``: llama.cpp's own ``llama-bench`` (``-p N -n 64 -t 2``), the
  reference for what this CPU can do with the model (``make llama-bench`` builds it for
  this CPU from the llama.cpp the runtime vendors).

Each runtime's best of ``--repeats`` runs is reported with its ratio to the fastest one
measured in this run (the goal: the default install >= 0.95x of the best).

Usage:
    .venv/bin/python benchmarks/bench_runtime.py
    .venv/bin/python benchmarks/bench_runtime.py --python /opt/native-venv/bin/python \\
        --llama-bench build/llama-bench/build/bin/llama-bench

Writes benchmarks/results/bench_runtime.json. Run it alone on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from common import write_results  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "bench_runtime.json"
PROMPT_TOKENS = 500
GEN_TOKENS = 64
THREADS = 2


def _model_path(model_dir: Path | None) -> Path:
    from rag.models.model_file import prepare_model
    from rag.settings import load_settings

    overrides = {"model_dir": model_dir} if model_dir else {}
    return prepare_model(load_settings(**overrides))


def _words() -> list[str]:
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").glob("*.md")))
    return text.split()


def measure_xllamacpp(model: Path, repeats: int) -> dict[str, Any]:
    """Best prompt / generation tok/s of the importable xllamacpp on ~500 prompt tokens."""
    from importlib.metadata import version

    import xllamacpp

    from rag.models.llm_server import EmbeddedServer, ServerConfig

    config = ServerConfig(model, threads=THREADS, batch_threads=THREADS, ctx_size=2048)
    server = EmbeddedServer.start(config, timeout=300)

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            server.address + path,
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {server.api_key}"},
        )
        with urllib.request.urlopen(request, timeout=600) as response:
            return json.loads(response.read())

    try:
        words = _words()
        lo, hi = 50, len(words)
        while lo < hi:  # the shortest run of words that reaches PROMPT_TOKENS tokens
            mid = (lo + hi) // 2
            count = len(post("/tokenize", {"content": " ".join(words[:mid])})["tokens"])
            lo, hi = (mid + 1, hi) if count < PROMPT_TOKENS else (lo, mid)
        tokens = post("/tokenize", {"content": " ".join(words[:lo])})["tokens"]
        post("/completion", {"prompt": tokens[:32], "n_predict": 4, "cache_prompt": False})
        prompt_rates, gen_rates = [], []
        for _ in range(repeats):
            body = {
                "prompt": tokens,
                "n_predict": GEN_TOKENS,
                "cache_prompt": False,
                "ignore_eos": True,
                "temperature": 0,
            }
            timings = post("/completion", body)["timings"]
            prompt_rates.append(round(timings["prompt_per_second"], 1))
            gen_rates.append(round(timings["predicted_per_second"], 1))
    finally:
        server.stop()
    return {
        "runtime": f"xllamacpp {version('xllamacpp')}",
        "cpu_features": xllamacpp.get_system_info().strip(),
        "prompt_tokens": len(tokens),
        "prompt_tok_s": prompt_rates,
        "gen_tok_s": gen_rates,
        "prompt_tok_s_best": max(prompt_rates),
        "gen_tok_s_best": max(gen_rates),
    }


def measure_other_python(python: str, model: Path, repeats: int) -> dict[str, Any]:
    """The same measurement in another interpreter (its own xllamacpp), as a child process."""
    command = [python, __file__, "--child", str(model), "--repeats", str(repeats)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_llama_bench(binary: str, model: Path, repeats: int) -> dict[str, Any]:
    """``llama-bench`` prompt (pp) and generation (tg) tok/s for the same sizes."""
    command = [binary, "-m", str(model), "-p", str(PROMPT_TOKENS), "-n", str(GEN_TOKENS)]
    command += ["-t", str(THREADS), "-r", str(repeats), "-o", "json"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    rows = json.loads(done.stdout)
    prompt = next(r for r in rows if r.get("n_prompt") and not r.get("n_gen"))
    gen = next(r for r in rows if r.get("n_gen") and not r.get("n_prompt"))
    return {
        "runtime": f"llama-bench {prompt.get('build_commit', '')}".strip(),
        "cpu_features": prompt.get("cpu_info", ""),
        "prompt_tokens": PROMPT_TOKENS,
        "prompt_tok_s_best": round(prompt["avg_ts"], 1),
        "gen_tok_s_best": round(gen["avg_ts"], 1),
    }


def compare(runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Each runtime's speed as a share of the fastest one measured.

    Example:
        >>> compare({"a": {"prompt_tok_s_best": 50.0, "gen_tok_s_best": 20.0},
        ...          "b": {"prompt_tok_s_best": 100.0, "gen_tok_s_best": 20.0}})["a"]
        {'prompt_vs_best': 0.5, 'gen_vs_best': 1.0}
    """
    ok = {name: run for name, run in runs.items() if "error" not in run}
    best_prompt = max((r["prompt_tok_s_best"] for r in ok.values()), default=0.0)
    best_gen = max((r["gen_tok_s_best"] for r in ok.values()), default=0.0)
    return {
        name: {
            "prompt_vs_best": round(run["prompt_tok_s_best"] / best_prompt, 3),
            "gen_vs_best": round(run["gen_tok_s_best"] / best_gen, 3),
        }
        for name, run in ok.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", action="append", default=[], help="Another interpreter.")
    parser.add_argument("--llama-bench", default=None, help="Path of a llama-bench binary.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model-dir", type=Path, default=None, help="Folder of the GGUF file.")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:  # one measurement for the parent process, as one JSON line
        print(json.dumps(measure_xllamacpp(args.child, args.repeats)))
        return
    env_model_dir = os.environ.get("NEWS_RAG_TEST_MODEL_DIR")
    model = _model_path(args.model_dir or (Path(env_model_dir) if env_model_dir else None))
    results: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "load_before": os.getloadavg()}}
    runs = {"default": measure_xllamacpp(model, args.repeats)}
    for python in args.python:
        runs[f"python:{python}"] = measure_other_python(python, model, args.repeats)
    if args.llama_bench:
        runs["llama-bench"] = measure_llama_bench(args.llama_bench, model, args.repeats)
    for name, run in runs.items():
        print(f"  {name}: {json.dumps(run)[:300]}")
    results.update(runs=runs, vs_best=compare(runs), when=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(json.dumps(results["vs_best"]))
    write_results(RESULTS, results)


if __name__ == "__main__":
    main()
