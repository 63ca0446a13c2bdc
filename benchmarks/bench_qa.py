"""Question-answering benchmark: retrieval quality and answer latency.

Two parts (each can be skipped; results of skipped parts are kept from the last run):

* ``experiment``: dense vs BM25 vs hybrid, fusion weights, k and the per-article cap on
  28 answerable questions over samples/ + evals/corpus/ (hit@k, MRR, context tokens),
  plus the best dense similarity of answerable vs unanswerable questions (abstention).
* ``llm``: time to first token, total time, prompt tokens and the share of time spent
  outside the model for ``ask`` with the embedded model.

Usage:
    .venv/bin/python benchmarks/bench_qa.py                 # everything
    .venv/bin/python benchmarks/bench_qa.py --skip-llm      # no LLM

Retrieval latency at 1k-100k chunks is measured by ``bench_retrieval.py``.
Writes benchmarks/results/bench_qa.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_qa.json"
CORPUS = [ROOT / "samples", ROOT / "evals" / "corpus", ROOT / "evals" / "corpus-adversarial"]

# question -> evidence: lowercase snippets, one of which the retrieved chunks must contain
# (chunk-level: the model needs the passage with the answer, not just the right article).
QUESTIONS: list[tuple[str, list[str]]] = [
    ("What did Hegseth rule out?", ["nato membership"]),
    ("What did Hegseth say about American troops?", ["no us troops", "no american troops"]),
    ("Who did Vance meet in Munich?", ["met ukraine's president volodymyr zelenskyy"]),
    ("What did Vance say worries him most in Europe?", ["threat from within"]),
    ("Where did US and Russian officials meet without Ukraine?", ["riyadh"]),
    ("To what level did the Norvanian Reserve Bank cut its rate in November?", ["to 3.75%"]),
    ("What did the Reserve Bank do with its rate in December?", ["unchanged at 3.75%"]),
    ("How many residents were evacuated in the Ardent Valley floods?", ["3,400 residents"]),
    ("How late were the flood alerts in the Ardent Valley?", ["47 minutes later"]),
    ("How much was Corvane fined?", ["fined the company 2.5 million"]),
    ("What price will the Halo glasses sell for?", ["399 dollars"]),
    ("Which analyst commented on the Halo privacy inquiry?", ["rafael moreno"]),
    ("What share of the vote did Ana Ruiz win?", ["54.2% of the vote"]),
    ("Who did Ruiz defeat in the Westfield election?", ["kessling"]),
    ("What did Ruiz sign on her first day as mayor?", ["signed an executive order"]),
    ("How far from the south pole did Selene-2 land?", ["kilometres from the lunar south pole"]),
    ("Did Selene-2 find ice in the lunar soil?", ["ice mixed into the soil"]),
    ("What was the score of the Continental Cup final?", ["3-2 after extra time"]),
    ("How big is Lakeport's transit budget?", ["1.42 billion dollar transit budget"]),
    ("How much has the Green Line's first phase cost risen?", ["risen by 8%"]),
    ("How much lower was dementia risk at 7,000 steps a day?", ["38% lower risk"]),
    ("What did Sigrid Aalberg say about phones in schools?", ["aalberg"]),
    ("What did Estonia's defence minister say about concessions?", ["pevkur"]),
    ("What did Fiona Larkin say Washington told the Europeans?", ["fiona larkin"]),
    ("By how much did Chepkurui break the Lakeport Marathon record?", ["1 minute and 52 seconds"]),
    ("How big a pay rise did the ferry workers get?", ["raises wages by 4.5%"]),
    ("Was a third runway approved at Northbridge airport?", ["approved a third runway"]),
    ("What is Norvania's unemployment forecast?", ["5.1%"]),
]
UNANSWERABLE = [
    "What did the article say about the Olympic Games?",
    "What is the weather forecast for Mars?",
    "Who won the 2022 FIFA World Cup?",
    "What did Taylor Swift announce about her tour?",
    "How much does a Tesla Model 3 cost?",
    "What is the population of Tokyo?",
    "What did the Pope say at Easter?",
    "What are the side effects of the new cancer drug?",
]
LLM_QUESTIONS = [
    "What did Hegseth rule out?",
    "Who was elected mayor of Westfield?",
    "How many people were evacuated from the Ardent Valley?",
]


def _settings(data_dir: Path, **overrides: Any):
    from rag.settings import load_settings

    return load_settings(data_dir=data_dir, **overrides)


def _sample_store(data_dir: Path):
    from rag.ingest.pipeline import ingest_locations
    from rag.models.embeddings import LocalEmbeddings
    from rag.store.articles import ArticleStore

    settings = _settings(data_dir)
    store = ArticleStore.from_settings(settings, LocalEmbeddings())
    if store.stats().chunks == 0:
        report = ingest_locations([p for p in CORPUS if p.exists()], store, settings)
        print(f"ingested {report.added} articles, {report.chunks_added} chunks")
    return store


# --------------------------------------------------------------------------- experiment
def _score(retriever, k: int) -> dict[str, float]:
    from rag.models.embeddings import embedding_tokenizer
    from rag.qa.passages import format_passages

    tokenizer = embedding_tokenizer()
    tokenizer.no_truncation()
    hits, reciprocal, tokens = 0, 0.0, []
    for question, expected in QUESTIONS:
        docs = retriever.invoke(question, k=k)
        ranks = [
            i
            for i, d in enumerate(docs, start=1)
            if any(e in d.page_content.lower() for e in expected)
        ]
        hits += bool(ranks)
        reciprocal += 1 / ranks[0] if ranks else 0.0
        tokens.append(len(tokenizer.encode(format_passages(docs)).ids))
    n = len(QUESTIONS)
    return {
        "hit_at_k": round(hits / n, 3),
        "mrr": round(reciprocal / n, 3),
        "context_tokens": round(statistics.mean(tokens)),
    }


def run_experiment(work: Path) -> dict[str, Any]:
    """Retrieval quality of modes, weights, k and caps on the sample corpus."""
    from rag.retrieval.hybrid import HybridRetriever

    store = _sample_store(work / "samples")
    rows = []

    def row(name: str, **overrides: Any) -> None:
        settings = _settings(work / "samples", **overrides)
        retriever = HybridRetriever.from_settings(store, settings)
        result = {"config": name, **overrides, **_score(retriever, settings.retrieval_k)}
        rows.append(result)
        print(f"  {name:34} {result}")

    print(f"retrieval experiment ({len(QUESTIONS)} questions, hit@k / MRR / context tokens):")
    for mode in ("dense", "bm25", "hybrid"):
        row(f"mode={mode}", retrieval_mode=mode)
    for dense_w, bm25_w in ((1.0, 0.5), (0.5, 1.0), (1.0, 0.25)):
        row(f"hybrid w={dense_w}/{bm25_w}", dense_weight=dense_w, bm25_weight=bm25_w)
    for k in (3, 4, 6):
        row(f"hybrid k={k}", retrieval_k=k)
    for cap in (1, 3):
        row(f"hybrid cap={cap}", max_chunks_per_article=cap)
    for k in (3, 4):
        row(f"dense k={k}", retrieval_mode="dense", retrieval_k=k)
    row("bm25 k=4", retrieval_mode="bm25", retrieval_k=4)
    row("hybrid rrf_k=20", rrf_k=20)
    return {"questions": len(QUESTIONS), "rows": rows, "abstention": _abstention(store)}


def _abstention(store) -> dict[str, Any]:
    def best(question: str) -> float:
        return round(store.dense_search(question, k=1)[0][1], 3)

    answerable = [best(q) for q, _ in QUESTIONS]
    unanswerable = [best(q) for q in UNANSWERABLE]
    result = {
        "answerable_best_similarity": {"min": min(answerable), "mean": statistics.mean(answerable)},
        "unanswerable_best_similarity": {
            "max": max(unanswerable),
            "mean": statistics.mean(unanswerable),
            "values": unanswerable,
        },
        "answerable_values": answerable,
    }
    for threshold in (0.25, 0.3, 0.35):
        result[f"threshold_{threshold}"] = {
            "answerable_wrongly_abstained": sum(s < threshold for s in answerable),
            "unanswerable_caught": sum(s < threshold for s in unanswerable),
        }
    print(f"abstention signal: {json.dumps(result, default=str)}")
    return result


# --------------------------------------------------------------------------- latency
# --------------------------------------------------------------------------- LLM
def run_llm(work: Path, model_dir: Path | None) -> dict[str, Any]:
    """Time to first token, total time and prompt tokens of ask with the embedded model."""
    from rag.models.llm import build_chat_model
    from rag.qa.answer import Answer
    from rag.qa.chain import QAService
    from rag.retrieval.hybrid import HybridRetriever

    store = _sample_store(work / "samples")
    overrides = {"model_dir": model_dir} if model_dir else {}
    settings = _settings(work / "samples", **overrides)
    start = time.perf_counter()
    llm = build_chat_model(settings)
    startup = time.perf_counter() - start
    qa = QAService(HybridRetriever.from_settings(store, settings), llm, settings)
    qa.retriever.invoke("warm up")
    runs = []
    for question in LLM_QUESTIONS:
        start = time.perf_counter()
        first = None
        answer = None
        for piece in qa.stream(question):
            if isinstance(piece, Answer):
                answer = piece
            elif first is None:
                first = time.perf_counter() - start
        total = time.perf_counter() - start
        assert answer is not None
        in_model = answer.timings.get("generate", 0.0) + answer.timings.get("condense", 0.0)
        run = {
            "question": question,
            "ttft_s": round(first or total, 2),
            "total_s": round(total, 2),
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "retrieve_s": answer.timings.get("retrieve"),
            "outside_model_share": round(max(0.0, total - in_model) / total, 4),
            "citations": [c.number for c in answer.citations],
            "abstained": answer.abstained,
            "answer": answer.answer,
        }
        runs.append(run)
        print(f"  {json.dumps(run)[:300]}")
    return {
        "server_start_s": round(startup, 2),
        "runs": runs,
        "mean_ttft_s": round(statistics.mean(r["ttft_s"] for r in runs), 2),
        "mean_total_s": round(statistics.mean(r["total_s"] for r in runs), 2),
        "mean_prompt_tokens": round(statistics.mean(r["prompt_tokens"] or 0 for r in runs)),
        "max_outside_model_share": max(r["outside_model_share"] for r in runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=["experiment", "llm"], action="append")
    parser.add_argument("--skip-llm", action="store_true", help="Do not run the embedded model.")
    parser.add_argument("--model-dir", type=Path, default=None, help="Folder of the GGUF file.")
    parser.add_argument("--work-dir", type=Path, default=None, help="Reuse stores here.")
    args = parser.parse_args()
    parts = args.only or ["experiment"] + ([] if args.skip_llm else ["llm"])
    env_model_dir = os.environ.get("NEWS_RAG_TEST_MODEL_DIR")
    model_dir = args.model_dir or (Path(env_model_dir) if env_model_dir else None)
    results: dict[str, Any] = {}
    if RESULTS.exists():
        results = json.loads(RESULTS.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="bench-qa-") as tmp:
        work = args.work_dir or Path(tmp)
        if "experiment" in parts:
            results["experiment"] = run_experiment(work)
        results.pop("retrieval_latency", None)  # moved to bench_retrieval.json
        if "llm" in parts:
            results["llm"] = run_llm(work, model_dir)
    results["machine"] = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    results["when"] = time.strftime("%Y-%m-%d %H:%M:%S")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2), encoding="utf-8")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
