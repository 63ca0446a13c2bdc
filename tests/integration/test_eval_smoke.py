"""The smoke eval suite end to end with the real stack: embedded Chroma, the local
embedder and the embedded LLM. It is the CI gate for answer and summary quality."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eval_runs import run_recording_stages

from rag.evaluation.runner import run_suite
from rag.evaluation.suite import load_suite

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parents[2] / "evals" / "smoke.yaml"


def test_smoke_suite_passes_with_the_default_local_stack(tmp_path: Path, model_dir: Path) -> None:
    suite = load_suite(SMOKE)
    outcome, stages = run_recording_stages(
        suite,
        tmp_path / "run",
        settings_overrides={"data_dir": tmp_path / "data", "model_dir": model_dir},
    )
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert outcome.passed, f"thresholds failed: {outcome.failures}\n\n{report}"

    metrics = outcome.summary["metrics"]
    assert metrics["qa"]["cases"] == len(suite.qa_cases) and metrics["qa"]["errors"] == 0
    assert metrics["summary"]["cases"] == len(suite.summary_cases)
    assert outcome.summary["run"]["ingest"]["articles"] == 10
    assert outcome.summary["run"]["collection"] == "eval-smoke"
    # every answered case was timed and its prompt tokens counted
    qa_rows = [r for r in outcome.results if r["kind"] == "qa"]
    assert all(r["latency_s"] > 0 for r in qa_rows)
    assert any(r["prompt_tokens"] for r in qa_rows)
    # the Hegseth question is answered from the right articles
    hegseth = next(r for r in qa_rows if r["id"] == "ukraine-hegseth-ruled-out")
    assert hegseth["scores"]["hit_at_k"] == 1.0 and not hegseth["abstained"]
    assert "nato" in hegseth["answer"].lower()
    # outputs on disk
    for name in ("results.jsonl", "summary.json", "ragas.jsonl", "scores_by_type.png"):
        assert (tmp_path / "run" / name).is_file(), name
    saved = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert saved["passed"] is True
    assert ("qa", len(suite.qa_cases), len(suite.qa_cases)) in stages


def test_second_run_reuses_the_store_and_compares(tmp_path: Path, model_dir: Path) -> None:
    """Re-running on the same data folder ingests nothing new; --compare finds the old run."""
    suite = load_suite(SMOKE)
    overrides = {"data_dir": tmp_path / "data", "model_dir": model_dir}
    run_suite(suite, out_dir=tmp_path / "first", limit=1, settings_overrides=overrides)
    second = run_suite(
        suite,
        out_dir=tmp_path / "second",
        limit=1,
        compare=tmp_path / "first",
        settings_overrides=overrides,
    )
    ingest = second.summary["run"]["ingest"]
    assert ingest["added"] == 0 and ingest["unchanged"] == 10
    assert second.comparison is not None
    assert {c["id"] for c in second.comparison.cases} == {
        *(c.id for c in suite.qa_cases[:1]),
        *(c.id for c in suite.summary_cases[:1]),
    }
    assert (tmp_path / "second" / "compare.md").is_file()
