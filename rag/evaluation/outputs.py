"""A run's files: ``results.jsonl``, ``summary.json``, ``ragas.jsonl``, the PNG charts,
``report.md`` and, when compared with an earlier run, ``compare.md``.

``ragas.jsonl`` holds the QA results in the column layout RAGAS reads, so a run can also
be scored with RAGAS' own metrics.

Example:
    >>> ragas_rows([{"kind": "qa", "question": "q", "answer": "", "gold_answers": []},
    ...             {"kind": "summary", "id": "s1"}])
    [{'question': 'q', 'answer': '', 'contexts': [], 'ground_truth': "The articles don't say."}]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.evaluation.charts import write_charts
from rag.evaluation.outcome import EvalOutcome
from rag.evaluation.report import render_comparison, render_report

__all__ = ["ragas_rows", "write_outputs"]


def ragas_rows(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """QA results in the column layout RAGAS reads: question, answer, contexts, ground_truth.

    Example:
        >>> ragas_rows([{"kind": "qa", "question": "q", "answer": "a",
        ...              "retrieved": [{"text": "c"}], "gold_answers": ["g"]}])
        [{'question': 'q', 'answer': 'a', 'contexts': ['c'], 'ground_truth': 'g'}]
    """
    rows = []
    for row in results:
        if row.get("kind") != "qa":
            continue
        golds = row.get("gold_answers") or []
        rows.append(
            {
                "question": row["question"],
                "answer": row.get("answer", ""),
                "contexts": [s.get("text", "") for s in row.get("retrieved", [])],
                "ground_truth": golds[0] if golds else "The articles don't say.",
            }
        )
    return rows


def write_outputs(outcome: EvalOutcome) -> list[Path]:
    """Write results.jsonl, summary.json, ragas.jsonl, report.md, charts (and compare.md).

    Example (``outcome`` comes from a run with the models):
        >>> files = write_outputs(outcome)  # doctest: +SKIP
    """
    out = outcome.out_dir
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "results.jsonl", out / "summary.json", out / "ragas.jsonl"]
    _write_jsonl(files[0], outcome.results)
    files[1].write_text(json.dumps(outcome.summary, indent=2, default=str), encoding="utf-8")
    _write_jsonl(files[2], ragas_rows(outcome.results))
    charts = write_charts(outcome)
    files += charts
    report = out / "report.md"
    report.write_text(render_report(outcome, [c.name for c in charts]), encoding="utf-8")
    files.append(report)
    if outcome.comparison is not None:
        compare_file = out / "compare.md"
        compare_file.write_text(render_comparison(outcome.comparison), encoding="utf-8")
        files.append(compare_file)
    baseline = outcome.summary["run"].get("baseline")
    if baseline:
        files.append(out / f"results.{baseline}.jsonl")
        _write_jsonl(files[-1], outcome.baseline_results)
    return files


def _write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
