"""The naive baseline on the smoke suite with the real stack (local embedder, embedded
LLM, embedded Chroma): two questions, enough to show it runs end to end and is labelled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.evaluation.runner import run_suite
from rag.evaluation.suite import load_suite

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parents[2] / "evals" / "smoke.yaml"


def test_naive_pipeline_answers_smoke_questions(tmp_path: Path, model_dir: Path) -> None:
    suite = load_suite(SMOKE)
    outcome = run_suite(
        suite,
        out_dir=tmp_path / "run",
        limit=2,
        pipeline="naive",
        settings_overrides={"data_dir": tmp_path / "data", "model_dir": model_dir},
    )
    rows = outcome.results
    assert [r["id"] for r in rows] == [c.id for c in suite.qa_cases[:2]]  # no summaries
    for row in rows:
        assert row["error"] is None and row["answer"].strip()
        assert len(row["retrieved"]) == 4 and row["prompt_tokens"]
        assert {"squad_em", "squad_f1"} <= set(row["scores"])
    hegseth = next(r for r in rows if r["id"] == "ukraine-hegseth-ruled-out")
    assert hegseth["scores"]["hit_at_k"] == 1.0
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["run"]["pipeline"] == "naive"
    assert saved["run"]["service"]["collection"] == "eval-smoke-naive"
    assert saved["metrics"]["summary"]["cases"] == 0
    assert "- Pipeline: naive" in (tmp_path / "run" / "report.md").read_text()
