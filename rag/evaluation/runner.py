"""The eval runner: load a suite, ingest its corpus, run every case, score, report.

A suite is a YAML file (see ``evals/README.md``; :mod:`rag.evaluation.suite`) naming a
corpus, QA and summary datasets (JSON Lines), settings overrides and pass thresholds.
:func:`run_suite`:

1. ingests the corpus into a separate collection (``eval-<suite>`` by default), removing
   articles left there by earlier runs that are no longer part of the corpus;
2. maps the datasets' article keys (URLs) to store ids (:mod:`rag.evaluation.articles`);
3. asks every QA case through the library facade (``NewsRAG.ask``) and summarizes every
   summary case (``NewsRAG.summarize``), timing each call (the run loop:
   :mod:`rag.evaluation.case_runner`);
4. scores each case (:mod:`rag.evaluation.scoring`, with the functions of
   :mod:`rag.evaluation.metrics`, and optionally :mod:`rag.evaluation.judge`), aggregates
   overall and per question type (:mod:`rag.evaluation.aggregation`), computes the floors
   of the same cases without any model (:mod:`rag.evaluation.floors`: never-abstain and
   always-abstain policies, a random retriever, lead-3 and same-length lead summaries; the
   naive pipeline when it runs beside this one or an earlier naive run is given), and
   checks thresholds (:mod:`rag.evaluation.thresholds`), which may be stated against them;
5. writes ``results.jsonl``, ``summary.json``, ``report.md``, ``ragas.jsonl`` and PNG
   charts to the output folder (:mod:`rag.evaluation.outputs`), plus ``compare.md`` when
   compared with an earlier run (:mod:`rag.evaluation.compare`).

Example (runs the models, for minutes):
    >>> from rag.evaluation.runner import run_suite
    >>> outcome = run_suite("evals/smoke.yaml", out_dir="eval-runs/smoke")  # doctest: +SKIP
    >>> outcome.passed, outcome.summary["qa"]["hit_at_k"]  # doctest: +SKIP
    (True, 1.0)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, RagError
from rag.evaluation.aggregation import aggregate
from rag.evaluation.case_runner import CaseRunner, ProgressCallback
from rag.evaluation.compare import compare_runs
from rag.evaluation.floors import (
    BASELINE_THIS_RUN,
    NAIVE_FLOOR,
    compute_floors,
    floor_entry,
    load_baseline_run,
)
from rag.evaluation.judge import Judge
from rag.evaluation.outcome import EvalOutcome
from rag.evaluation.outputs import write_outputs
from rag.evaluation.scoring import RETRIEVAL_METRICS
from rag.evaluation.suite import Suite, load_suite
from rag.evaluation.thresholds import check_thresholds

__all__ = [
    "PARTIAL_RESULTS",
    "PIPELINES",
    "build_service",
    "pipeline_service",
    "run_suite",
    "suite_settings",
]

logger = logging.getLogger(__name__)


PIPELINES = ("news-rag", "naive")
"""``news-rag``: the library's own chain; ``naive``: the quick-start baseline
(rag.evaluation.naive)."""
PARTIAL_RESULTS = "results.partial.jsonl"  # rows written as they come; removed at the end
ServiceFactory = Callable[[Any], Any]


def build_service(settings: Any) -> Any:
    """The real library facade for a run (tests replace this with a fake).

    Example:
        >>> from rag.settings import load_settings
        >>> service = build_service(load_settings(collection="eval-smoke"))  # loads nothing yet
        >>> service.settings.collection
        'eval-smoke'
    """
    from rag.service import NewsRAG

    return NewsRAG.from_settings(settings)


def pipeline_service(name: str, service: Any) -> Any:
    """The facade that answers for pipeline ``name``, built on the news-rag ``service``.

    ``naive`` wraps the service in :class:`rag.evaluation.naive.NaiveRAG` (same store, embedder and
    chat model; its own chunks, retrieval and prompt).

    Example:
        >>> pipeline_service("news-rag", service) is service
        True
        >>> type(pipeline_service("naive", service)).__name__
        'NaiveRAG'
    """
    if name not in PIPELINES:
        raise ConfigError(f"unknown pipeline {name!r}", hint=f"use one of: {', '.join(PIPELINES)}")
    if name == "naive":
        from rag.evaluation.naive import NaiveRAG

        return NaiveRAG(service)
    return service


def suite_settings(suite: Suite, **overrides: Any) -> Any:
    """Settings for a run: environment, then the suite's overrides, then ``overrides``.

    The collection is always the suite's own, so eval articles never mix with a library.

    Example:
        >>> from rag.evaluation.suite import load_suite
        >>> settings = suite_settings(load_suite("evals/smoke.yaml"), retrieval_mode="bm25")
        >>> settings.collection, settings.retrieval_mode
        ('eval-smoke', 'bm25')
    """
    from rag.settings import load_settings

    values = {**suite.settings, **{k: v for k, v in overrides.items() if v is not None}}
    values["collection"] = suite.collection
    return load_settings(**values)


def _run_info(suite: Suite, settings: Any, service: Any, judge: Judge | None) -> dict[str, Any]:
    from rag.redaction import redact_mapping, register_secrets
    from rag.settings import Settings

    if isinstance(settings, Settings):
        register_secrets(settings)  # reports are shared: no key, login or URL credential
    info: dict[str, Any] = {
        "suite": suite.name,
        "suite_file": str(suite.path),
        "description": suite.description,
        "collection": suite.collection,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": _public_settings(settings),
        "judge_model": judge.model if judge else None,
    }
    try:
        info["service"] = service.describe()
    except Exception:  # a fake or a partial service: the description is optional
        info["service"] = {}
    return redact_mapping(info)


def _public_settings(settings: Any) -> dict[str, Any]:
    keys = (
        "llm_model",
        "llm_base_url",
        "llm_temperature",
        "llm_max_tokens",
        "llm_ctx_size",
        "embedding_provider",
        "embedding_model",
        "chunk_tokens",
        "chunk_overlap",
        "retrieval_mode",
        "retrieval_k",
        "retrieval_fetch_k",
        "max_chunks_per_article",
        "abstain_min_similarity",
        "collection",
    )
    from rag.redaction import public_url

    values = {}
    for key in keys:
        value = getattr(settings, key, None)
        if key.endswith("_url") and isinstance(value, str):
            value = public_url(value)
        values[key] = (
            value if isinstance(value, int | float | str | bool | type(None)) else str(value)
        )
    return values


def run_suite(
    suite: Suite | str | Path,
    *,
    out_dir: str | Path | None = None,
    limit: int | None = None,
    compare: str | Path | None = None,
    retrieval_mode: str | None = None,
    judge: bool = False,
    retrieval_only: bool = False,
    baseline_run: str | Path | None = None,
    settings_overrides: Mapping[str, Any] | None = None,
    service: Any = None,
    progress: ProgressCallback | None = None,
    write: bool = True,
    pipeline: str = "news-rag",
    baseline: str | None = None,
) -> EvalOutcome:
    """Run a suite end to end and write its outputs (see the module docstring).

    ``service`` replaces the real facade (tests pass a fake with the same methods);
    ``settings_overrides`` go on top of the suite's settings (e.g. ``data_dir``).
    ``retrieval_only`` skips the LLM: only retrieval metrics (hit@k, recall@k, MRR) are
    measured and only thresholds on them are checked (fast retrieval ablations).
    ``pipeline`` chooses what answers (:data:`PIPELINES`); a pipeline that does not
    summarize skips summary cases and their thresholds. ``baseline`` also runs another
    pipeline's QA cases on the same store and models; its aggregates land in
    ``metrics.floors.<baseline>`` and beside the main numbers in the report.
    ``baseline_run`` is instead the output folder of a naive pipeline's earlier run of the
    same suite: its metrics become ``floors.naive``. Either way thresholds may be stated
    against ``floors.naive`` (one source per run: not both).

    Example (runs the models):
        >>> outcome = run_suite("evals/smoke.yaml", limit=3)  # doctest: +SKIP
        >>> [f.name for f in outcome.files]  # doctest: +SKIP
        ['results.jsonl', 'summary.json', 'ragas.jsonl', 'report.md', ...]
    """
    if not isinstance(suite, Suite):
        suite = load_suite(suite)
    if limit is not None and limit < 1:
        raise ConfigError("--limit must be at least 1")
    old_dir = Path(compare) if compare else None
    if old_dir and not (old_dir / "results.jsonl").is_file():
        raise ConfigError(
            f"no earlier run in {old_dir}", hint="pass the --out folder of an earlier run"
        )
    if baseline_run and baseline == NAIVE_FLOOR:
        raise ConfigError(
            "--baseline naive and --baseline-run both give floors.naive",
            hint="run the naive baseline in this run or read an earlier one, not both",
        )
    earlier = load_baseline_run(baseline_run, suite) if baseline_run else None
    settings = suite_settings(
        suite, retrieval_mode=retrieval_mode, **dict(settings_overrides or {})
    )
    if judge and retrieval_only:
        raise ConfigError("--judge needs answers: it cannot be combined with --retrieval-only")
    if baseline is not None and baseline == pipeline:
        raise ConfigError(f"--baseline {baseline} is the pipeline being measured")
    base_service = service if service is not None else build_service(settings)
    service = pipeline_service(pipeline, base_service)
    baseline_service = pipeline_service(baseline, base_service) if baseline else None
    judge_obj = Judge(service.llm, getattr(settings, "llm_model", "llm")) if judge else None
    target = Path(out_dir or _default_out_dir(suite))
    runner = CaseRunner(
        suite,
        service,
        settings,
        progress=progress,
        judge=judge_obj,
        limit=limit,
        retrieval_only=retrieval_only,
        partial_path=target / PARTIAL_RESULTS if write else None,
    )
    info = _run_info(suite, settings, service, judge_obj)
    info.update(
        pipeline=pipeline, baseline=baseline, baseline_run=earlier["run"] if earlier else None
    )
    started = time.perf_counter()
    runner.ingest()
    other: CaseRunner | None = None
    try:
        runner.run_qa()
        runner.run_summaries()
        if baseline_service is not None:
            other = _run_baseline(runner, baseline_service, str(baseline))
    except (RagError, KeyboardInterrupt) as exc:
        if runner.partial_path is not None and runner.results:
            logger.warning("run stopped (%s); results so far in %s", exc, runner.partial_path)
        raise
    in_run = _baseline_floor(str(baseline), other, info["started"]) if other else None
    naive = in_run if baseline == NAIVE_FLOOR else earlier
    floors = compute_floors(runner.results, runner.index.chunks, runner.k, naive)
    if in_run is not None and baseline != NAIVE_FLOOR:  # e.g. news-rag beside a naive run
        floors[str(baseline)] = in_run
    info.update(
        retrieval_only=retrieval_only,
        seconds=round(time.perf_counter() - started, 2),
        ingest=runner.ingest_info,
        warnings=[*runner.warnings, *(w for f in (earlier, in_run) if f for w in f["warnings"])],
    )
    outcome = _finish(
        suite,
        target,
        runner.results,
        info,
        judge_obj,
        retrieval_only,
        old_dir,
        floors=floors,
        summaries=getattr(service, "summarizes", True),
    )
    outcome.baseline_results = other.results if other is not None else []
    if write:
        outcome.files = write_outputs(outcome)
        if runner.partial_path is not None:
            runner.partial_path.unlink(missing_ok=True)
    return outcome


def _run_baseline(runner: CaseRunner, service: Any, name: str) -> CaseRunner:
    """The QA cases again with another pipeline on the same store (no judge, no summaries)."""
    progress = runner.progress
    other = CaseRunner(
        runner.suite,
        service,
        runner.settings,
        progress=lambda stage, done, total: progress(f"{name}:{stage}", done, total),
        judge=None,
        limit=None,
        retrieval_only=runner.retrieval_only,
    )
    other.qa_cases, other.summary_cases = runner.qa_cases, []
    other.ingest()  # the articles are stored already: this only builds the pipeline's index
    other.run_qa()
    return other


def _baseline_floor(name: str, baseline: CaseRunner, started: str) -> dict[str, Any]:
    """A baseline measured in this run, as stored under ``metrics.floors.<name>``."""
    return floor_entry(
        name,
        run=BASELINE_THIS_RUN,
        started=started,
        measured=aggregate(baseline.results),
        warnings=[f"{name} baseline: {w}" for w in baseline.warnings],
    )


def _finish(
    suite: Suite,
    out_dir: Path,
    results: list[dict[str, Any]],
    info: dict[str, Any],
    judge: Judge | None,
    retrieval_only: bool,
    old_dir: Path | None,
    *,
    floors: Mapping[str, Any] | None = None,
    summaries: bool = True,
) -> EvalOutcome:
    """Aggregate, check thresholds and compare: the outcome of a finished run."""
    summary_metrics = aggregate(results)
    summary_metrics["floors"] = dict(floors or {})
    if judge is not None:
        summary_metrics["judge"] = {
            "model": judge.model,
            "faithfulness": summary_metrics["qa"].get("judge_faithfulness"),
            "correctness": summary_metrics["qa"].get("judge_correctness"),
        }
    wanted = suite.thresholds
    if retrieval_only:
        wanted = {k: v for k, v in wanted.items() if k.rsplit(".", 1)[-1] in RETRIEVAL_METRICS}
    if not summaries:  # the pipeline does not summarize (e.g. naive): nothing to check
        wanted = {k: v for k, v in wanted.items() if not k.startswith("summary.")}
    thresholds = check_thresholds(summary_metrics, wanted)
    comparison = compare_runs(old_dir, results, summary_metrics) if old_dir else None
    return EvalOutcome(
        suite=suite,
        out_dir=out_dir,
        results=results,
        summary={
            "run": info,
            "metrics": summary_metrics,
            "thresholds": thresholds,
            "passed": all(t["passed"] for t in thresholds),
            "comparison": comparison.as_dict() if comparison else None,
        },
        thresholds=thresholds,
        comparison=comparison,
    )


def _default_out_dir(suite: Suite) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path("eval-runs") / f"{suite.name}-{stamp}"
