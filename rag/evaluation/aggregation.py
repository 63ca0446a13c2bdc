"""Aggregation: a run's result rows averaged overall, per question type and for summaries.

Example:
    >>> rows = [{"kind": "qa", "type": "single", "scores": {"f1": 0.5}, "latency_s": 1.0},
    ...         {"kind": "qa", "type": "date", "scores": {"f1": 1.0}, "latency_s": 3.0}]
    >>> summary = aggregate(rows)
    >>> summary["qa"]["f1"], sorted(summary["qa_by_type"]), summary["summary"]["cases"]
    (0.75, ['date', 'single'], 0)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from rag.evaluation import metrics, squad_metrics
from rag.evaluation.scoring import QA_METRICS
from rag.evaluation.suite import QA_TYPES

__all__ = ["aggregate"]


def _qa_aggregate(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": len(rows), "errors": sum(1 for r in rows if r.get("error"))}
    for name in (*QA_METRICS, *squad_metrics.SQUAD_METRICS, "score"):
        out[name] = metrics.mean(r["scores"].get(name) for r in rows)
    latencies = [r.get("latency_s") for r in rows]
    tokens = [r.get("prompt_tokens") for r in rows]
    out["latency_p50_s"] = metrics.percentile(latencies, 50)
    out["latency_p95_s"] = metrics.percentile(latencies, 95)
    out["prompt_tokens_mean"] = metrics.mean(tokens)
    out["prompt_tokens_p95"] = metrics.percentile(tokens, 95)
    judged = [r["judge"] for r in rows if r.get("judge")]
    if judged:
        out["judge_faithfulness"] = metrics.mean(j.get("faithfulness") for j in judged)
        out["judge_correctness"] = metrics.mean(j.get("correctness") for j in judged)
    return out


def _summary_aggregate(rows: Sequence[Mapping[str, Any]], key: str = "scores") -> dict[str, Any]:
    scored = [r[key] for r in rows if r.get(key)]
    out: dict[str, Any] = {"cases": len(rows)}
    out["key_fact_coverage"] = metrics.mean(s.get("key_fact_coverage") for s in scored)
    for name in ("rouge1", "rouge2", "rougeL"):
        out[name] = metrics.mean(s.get(name) for s in scored)
    out["supported_rate"] = metrics.mean(float(s["supported"]) for s in scored if "supported" in s)
    out["faithful_rate"] = metrics.mean(float(s["faithful"]) for s in scored if "faithful" in s)
    out["forbidden_free_rate"] = metrics.mean(
        float(s.get("forbidden_free", not s.get("forbidden_made"))) for s in scored
    )
    out["words_mean"] = metrics.mean(s.get("words") for s in scored)
    return out


def aggregate(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Overall, per-type and summary aggregates (with the lead-3 baseline beside).

    Example:
        >>> aggregate([])["qa"]["cases"]
        0
    """
    qa_rows = [r for r in results if r["kind"] == "qa"]
    sum_rows = [r for r in results if r["kind"] == "summary"]
    by_type: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in qa_rows:
        by_type[row["type"]].append(row)
    summary = _summary_aggregate(sum_rows)
    summary["errors"] = sum(1 for r in sum_rows if r.get("error"))
    summary["latency_p50_s"] = metrics.percentile((r.get("latency_s") for r in sum_rows), 50)
    summary["latency_p95_s"] = metrics.percentile((r.get("latency_s") for r in sum_rows), 95)
    summary["prompt_tokens_mean"] = metrics.mean(r.get("prompt_tokens") for r in sum_rows)
    summary["baseline_lead3"] = _summary_aggregate(sum_rows, key="baseline")
    summary["baseline_lead_same_length"] = _summary_aggregate(sum_rows, key="baseline_same_length")
    return {
        "qa": _qa_aggregate(qa_rows),
        "qa_by_type": {t: _qa_aggregate(by_type[t]) for t in QA_TYPES if by_type.get(t)},
        "summary": summary,
        "squad": squad_metrics.aggregate(qa_rows),
    }
