"""The eval runner: load a suite, ingest its corpus, run every case, score, report.

A suite is a YAML file (see ``evals/README.md``) naming a corpus, QA and summary
datasets (JSON Lines), settings overrides and pass thresholds. The runner:

1. ingests the corpus into a separate collection (``eval-<suite>`` by default), removing
   articles left there by earlier runs that are no longer part of the corpus;
2. maps the datasets' article keys (URLs) to store ids;
3. asks every QA case through the library facade (``NewsRAG.ask``) and summarizes every
   summary case (``NewsRAG.summarize``), timing each call;
4. scores each case with :mod:`rag.evaluation.metrics` (and optionally an LLM judge), aggregates
   overall and per question type, computes the floors of the same cases without any
   model (never-abstain and always-abstain policies, a random retriever, lead-3 and
   same-length lead summaries; the naive pipeline when it runs beside this one or an
   earlier naive run is given), and checks thresholds, which may be stated against them;
5. writes ``results.jsonl``, ``summary.json``, ``report.md``, ``ragas.jsonl`` and PNG
   charts to the output folder, plus ``compare.md`` when compared with an earlier run.

Example:
    >>> from rag.evaluation.runner import run_suite
    >>> outcome = run_suite("evals/smoke.yaml", out_dir="eval-runs/smoke")  # doctest: +SKIP
    >>> outcome.passed, outcome.summary["qa"]["hit_at_k"]  # doctest: +SKIP
    (True, 1.0)
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, LLMUnavailableError, ModelError, RagError
from rag.evaluation import metrics, squad_metrics
from rag.evaluation.aggregation import aggregate
from rag.evaluation.articles import ArticleIndex
from rag.evaluation.compare import Comparison, compare_runs
from rag.evaluation.floors import (
    BASELINE_THIS_RUN,
    NAIVE_FLOOR,
    compute_floors,
    floor_entry,
    load_baseline_run,
)
from rag.evaluation.judge import Judge
from rag.evaluation.scoring import (
    QA_METRICS,
    RETRIEVAL_METRICS,
    failed_scores,
    grading_source,
    score_qa,
    score_summary,
)
from rag.evaluation.suite import QACase, Suite, SummaryCase, load_suite
from rag.evaluation.thresholds import check_thresholds

__all__ = [
    "EvalOutcome",
    "run_suite",
]

logger = logging.getLogger(__name__)


PIPELINES = ("news-rag", "naive")
"""``news-rag``: the library's own chain; ``naive``: the quick-start baseline
(rag.evaluation.naive)."""
PARTIAL_RESULTS = "results.partial.jsonl"  # rows written as they come; removed at the end
MAX_LLM_FAILURES = 3  # consecutive LLM failures (timeouts, connection) that stop a run
WORST_CASES = 8
ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages: ingest, qa, summaries."""
ServiceFactory = Callable[[Any], Any]


def _citation_dict(citation: Any) -> dict[str, Any]:
    return {
        "number": getattr(citation, "number", None),
        "article_id": str(getattr(citation, "article_id", "")),
        "title": str(getattr(citation, "title", "") or ""),
        "url": str(getattr(citation, "url", "") or ""),
        "published": str(getattr(citation, "published", "") or ""),
        "text": str(getattr(citation, "text", "") or ""),
    }


@dataclass
class EvalOutcome:
    """What a run produced: rows, aggregates, threshold checks and output paths.

    Example:
        >>> outcome = run_suite("evals/smoke.yaml")  # doctest: +SKIP
        >>> outcome.passed, outcome.out_dir  # doctest: +SKIP
    """

    suite: Suite
    out_dir: Path
    results: list[dict[str, Any]]
    summary: dict[str, Any]
    thresholds: list[dict[str, Any]]
    comparison: Comparison | None = None
    files: list[Path] = field(default_factory=list)
    baseline_results: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """True when every threshold holds."""
        return all(row["passed"] for row in self.thresholds)

    @property
    def failures(self) -> list[dict[str, Any]]:
        """The thresholds that did not hold."""
        return [row for row in self.thresholds if not row["passed"]]


def build_service(settings: Any) -> Any:
    """The real library facade for a run (tests replace this with a fake).

    Example:
        >>> service = build_service(load_settings(collection="eval-smoke"))  # doctest: +SKIP
    """
    from rag.service import NewsRAG

    return NewsRAG.from_settings(settings)


def pipeline_service(name: str, service: Any) -> Any:
    """The facade that answers for pipeline ``name``, built on the news-rag ``service``.

    ``naive`` wraps the service in :class:`rag.evaluation.naive.NaiveRAG` (same store, embedder and
    chat model; its own chunks, retrieval and prompt).

    Example:
        >>> pipeline_service("news-rag", service) is service  # doctest: +SKIP
        True
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
        >>> suite_settings(suite, retrieval_mode="bm25").collection  # doctest: +SKIP
        'eval-smoke'
    """
    from rag.settings import load_settings

    values = {**suite.settings, **{k: v for k, v in overrides.items() if v is not None}}
    values["collection"] = suite.collection
    return load_settings(**values)


class _Runner:
    """Runs one suite against one service; see :func:`run_suite`."""

    def __init__(
        self,
        suite: Suite,
        service: Any,
        settings: Any,
        *,
        progress: ProgressCallback | None,
        judge: Judge | None,
        limit: int | None,
        retrieval_only: bool = False,
        partial_path: Path | None = None,
    ) -> None:
        self.suite = suite
        self.partial_path = partial_path
        self.retrieval_only = retrieval_only
        self.service = service
        self.settings = settings
        self.progress = progress or (lambda stage, done, total: None)
        self.judge = judge
        self.qa_cases = suite.qa_cases[:limit] if limit else suite.qa_cases
        self.summary_cases = suite.summary_cases[:limit] if limit else suite.summary_cases
        if retrieval_only or not getattr(service, "summarizes", True):
            self.summary_cases = []
        self.k = int(getattr(settings, "retrieval_k", 5))
        self.index = ArticleIndex([])
        self.ingest_info: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.results: list[dict[str, Any]] = []
        self.llm_failures = 0  # consecutive cases the LLM failed on

    # --- corpus -------------------------------------------------------------------
    def ingest(self) -> None:
        self.progress("ingest", 0, 1)
        started = time.perf_counter()
        report = self.service.ingest([str(p) for p in self.suite.corpus])
        kept = set(getattr(report, "article_ids", []) or [])
        stale = [a.id for a in self.service.list_articles() if a.id not in kept]
        total_ok = getattr(report, "added", 0) + getattr(report, "unchanged", 0)
        total_ok += getattr(report, "replaced", 0)
        if stale and kept and len(kept) >= total_ok:
            self.service.delete(stale)
        failed = list(getattr(report, "failed", []) or [])
        for origin, reason in failed:
            self.warnings.append(f"ingest failed for {origin}: {reason}")
        self.index = ArticleIndex.from_service(self.service)
        self.ingest_info = {
            "articles": len(self.index.titles),
            "added": getattr(report, "added", 0),
            "unchanged": getattr(report, "unchanged", 0),
            "replaced": getattr(report, "replaced", 0),
            "failed": [list(f) for f in failed],
            "stale_removed": len(stale) if stale and kept and len(kept) >= total_ok else 0,
            "seconds": round(time.perf_counter() - started, 3),
        }
        self.progress("ingest", 1, 1)

    # --- QA -----------------------------------------------------------------------
    def run_qa(self) -> list[dict[str, Any]]:
        total = len(self.qa_cases)
        self.progress("qa", 0, total)
        for done, case in enumerate(self.qa_cases, start=1):
            self._record(self.qa_case(case))
            self.progress("qa", done, total)
        return [r for r in self.results if r["kind"] == "qa"]

    def _record(self, row: dict[str, Any]) -> None:
        """Keep a row (also on disk, as it comes); stop when the LLM keeps failing."""
        llm_unavailable = row.pop("_llm_unavailable", False)
        self.results.append(row)
        if self.partial_path is not None:
            if len(self.results) == 1:
                self.partial_path.parent.mkdir(parents=True, exist_ok=True)
                self.partial_path.write_text("", encoding="utf-8")
            with self.partial_path.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
        logger.info(
            "%s %s: score %s in %.1f s%s",
            row["kind"],
            row["id"],
            "—" if row.get("score") is None else f"{row['score']:.2f}",
            row.get("latency_s") or 0.0,
            f" (error: {row['error']})" if row.get("error") else "",
        )
        if not llm_unavailable:
            self.llm_failures = 0
            return
        self.llm_failures += 1
        if self.llm_failures >= MAX_LLM_FAILURES:
            raise LLMUnavailableError(
                f"the LLM failed on {self.llm_failures} cases in a row; last error: {row['error']}",
                hint="check the endpoint, or raise RAG_LLM_TIMEOUT on a slow or busy machine",
            )

    def qa_case(self, case: QACase) -> dict[str, Any]:
        gold_ids, missing = self.index.resolve_gold(case.gold_articles)
        row: dict[str, Any] = {
            "kind": "qa",
            "id": case.id,
            "type": case.type,
            "question": case.question,
            "history": [list(t) for t in case.history],
            "answerable": case.answerable,
            "gold_answers": case.answers,
            "must_include": case.must_include,
            "gold_articles": case.gold_articles,
            "gold_article_ids": gold_ids,
            "evidence": case.evidence,
            "error": None,
        }
        if missing:  # a failure, not a case left out of the averages
            error = f"gold article(s) not in the store: {missing}"
            row.update(_qa_failure(case, error, 0.0, retrieval_only=self.retrieval_only))
            return row
        if self.retrieval_only:
            return self._retrieval_case(case, row, gold_ids)
        started = time.perf_counter()
        try:
            answer = self.service.ask(case.question, history=case.history or None)
        except ModelError:
            raise
        except Exception as exc:  # one broken case must not end the run
            logger.warning("case %s failed: %s", case.id, exc)
            row.update(
                _qa_failure(case, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
            )
            row["_llm_unavailable"] = isinstance(exc, LLMUnavailableError)
            return row
        latency = time.perf_counter() - started
        sources = list(getattr(answer, "sources", None) or getattr(answer, "citations", []))
        citations = list(getattr(answer, "citations", []) or [])
        text = str(getattr(answer, "answer", ""))
        abstained = bool(getattr(answer, "abstained", False))
        retrieved = [str(getattr(s, "article_id", "")) for s in sources]
        cited = [
            (str(getattr(c, "article_id", "")), str(getattr(c, "text", ""))) for c in citations
        ]
        scores = score_qa(case, text, abstained, retrieved, cited, gold_ids, self.k)
        scores.update(
            squad_metrics.case_scores(
                text, abstained=abstained, answers=case.answers, answerable=case.answerable
            )
        )
        row.update(
            {
                "answer": text,
                "abstained": abstained,
                "standalone_question": getattr(answer, "standalone_question", None),
                "citations": [_citation_dict(c) for c in citations],
                "retrieved": [
                    {**_citation_dict(s), "rank": rank} for rank, s in enumerate(sources, start=1)
                ],
                "flags": [str(getattr(f, "kind", f)) for f in getattr(answer, "flags", []) or []],
                "latency_s": round(latency, 4),
                "timings": dict(getattr(answer, "timings", {}) or {}),
                "prompt_tokens": getattr(answer, "prompt_tokens", None),
                "scores": scores,
                "score": scores.get("score"),
            }
        )
        if self.judge is not None:
            row["judge"] = self._judge(case, row)
        return row

    def _retrieval_case(
        self, case: QACase, row: dict[str, Any], gold_ids: list[list[str]]
    ) -> dict[str, Any]:
        """Retrieval metrics only, no LLM: for fast retrieval ablations.

        A follow-up is searched as its previous user turn plus the follow-up (the LLM
        would normally rewrite it into a standalone question).
        """
        query = case.question
        if case.history:
            query = f"{case.history[-1][0]} {case.question}"
        started = time.perf_counter()
        documents = self.service.retriever.invoke(query)
        latency = time.perf_counter() - started
        retrieved = [str(d.metadata.get("article_id", "")) for d in documents]
        scores: dict[str, float | None] = dict.fromkeys(QA_METRICS)
        if case.answerable and gold_ids:
            scores["hit_at_k"] = metrics.hit_at_k(retrieved, gold_ids, self.k)
            scores["recall_at_k"] = metrics.recall_at_k(retrieved, gold_ids, self.k)
            scores["mrr"] = metrics.reciprocal_rank(retrieved, gold_ids)
        scores["score"] = scores["hit_at_k"]
        row.update(
            {
                "answer": "",
                "abstained": False,
                "standalone_question": query,
                "citations": [],
                "retrieved": [
                    {
                        "rank": rank,
                        "article_id": str(d.metadata.get("article_id", "")),
                        "title": str(d.metadata.get("title", "")),
                        "url": str(d.metadata.get("url", "")),
                        "text": d.page_content,
                    }
                    for rank, d in enumerate(documents, start=1)
                ],
                "latency_s": round(latency, 4),
                "prompt_tokens": None,
                "scores": scores,
                "score": scores["score"],
            }
        )
        return row

    def _judge(self, case: QACase, row: Mapping[str, Any]) -> dict[str, Any] | None:
        assert self.judge is not None
        try:
            verdict = self.judge.score(
                case.question, row["answer"], [s["text"] for s in row["retrieved"]], case.answers
            )
        except RagError as exc:
            logger.warning("judge failed on %s: %s", case.id, exc)
            return None
        return {**verdict, "model": self.judge.model}

    # --- summaries ----------------------------------------------------------------
    def run_summaries(self) -> list[dict[str, Any]]:
        total = len(self.summary_cases)
        self.progress("summaries", 0, total)
        for done, case in enumerate(self.summary_cases, start=1):
            self._record(self.summary_case(case))
            self.progress("summaries", done, total)
        return [r for r in self.results if r["kind"] == "summary"]

    def summary_case(self, case: SummaryCase) -> dict[str, Any]:
        article_id = self.index.resolve(case.article)
        row: dict[str, Any] = {
            "kind": "summary",
            "id": case.id,
            "type": "summary",
            "article": case.article,
            "article_id": article_id,
            "title": self.index.titles.get(article_id or "", ""),
            "style": case.style,
            "reference": case.reference,
            "error": None,
        }
        if article_id is None:
            row.update(_summary_failure(f"article not in the store: {case.article}", 0.0))
            return row
        article = self.service.get_article(article_id)
        article_text = str(article.text)
        grounding = grading_source(article)
        baseline_text = metrics.lead_n(article_text, 3)
        row["baseline"] = {
            "text": baseline_text,
            **score_summary(case, baseline_text, article_text, grounding),
        }
        started = time.perf_counter()
        try:
            summary = self.service.summarize(
                article_id, style=case.style, refresh=self.suite.summary_refresh
            )
        except ModelError:
            raise
        except Exception as exc:  # one broken case must not end the run
            logger.warning("summary %s failed: %s", case.id, exc)
            row.update(
                _summary_failure(f"{type(exc).__name__}: {exc}", time.perf_counter() - started)
            )
            row["_llm_unavailable"] = isinstance(exc, LLMUnavailableError)
            return row
        text = str(getattr(summary, "text", summary))
        scores = score_summary(case, text, article_text, grounding)
        same_length = metrics.lead_words(article_text, scores["words"])
        row["baseline_same_length"] = {
            "text": same_length,
            **score_summary(case, same_length, article_text, grounding),
        }
        row.update(
            {
                "summary": text,
                "method": getattr(summary, "method", None),
                "service_faithful": getattr(summary, "faithful", None),
                "service_issues": list(getattr(summary, "issues", []) or []),
                "cached": getattr(summary, "cached", None),
                "latency_s": round(time.perf_counter() - started, 4),
                "prompt_tokens": getattr(summary, "prompt_tokens", None),
                "scores": scores,
                "score": scores["score"],
            }
        )
        return row


def _qa_failure(
    case: QACase, error: str, latency: float, *, retrieval_only: bool = False
) -> dict[str, Any]:
    return {
        "answer": "",
        "abstained": False,
        "citations": [],
        "retrieved": [],
        "latency_s": round(latency, 4),
        "prompt_tokens": None,
        "scores": failed_scores(case, retrieval_only=retrieval_only),
        "score": 0.0,
        "error": error,
    }


def _summary_failure(error: str, latency: float) -> dict[str, Any]:
    scores = {
        "key_fact_coverage": 0.0,
        "supported": False,
        "unsupported": ["no summary"],
        "faithful": False,
        "forbidden_made": [],
        "forbidden_free": False,  # no summary is not a summary free of wrong claims
        "rouge1": None,
        "rouge2": None,
        "rougeL": None,
        "score": 0.0,
    }
    return {
        "summary": "",
        "latency_s": round(latency, 4),
        "scores": scores,
        "score": 0.0,
        "error": error,
    }


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

    Example:
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
    runner = _Runner(
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
    other: _Runner | None = None
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


def _run_baseline(runner: _Runner, service: Any, name: str) -> _Runner:
    """The QA cases again with another pipeline on the same store (no judge, no summaries)."""
    progress = runner.progress
    other = _Runner(
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


def _baseline_floor(name: str, baseline: _Runner, started: str) -> dict[str, Any]:
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


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _cell(text: Any, limit: int = 300) -> str:
    flat = " ".join(str(text or "").split()).replace("|", "\\|")
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


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

    Example:
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


CHART_METRICS = (
    ("hit_at_k", "hit@k"),
    ("mrr", "MRR"),
    ("must_include_recall", "must-include"),
    ("refusal_rate", "refusals"),
    ("false_refusal_rate", "false refusals"),
    ("citation_validity", "citations"),
)


def write_charts(outcome: EvalOutcome) -> list[Path]:
    """PNG charts: scores per question type, summaries vs lead-3, latency histogram.

    Example:
        >>> [p.name for p in write_charts(outcome)]  # doctest: +SKIP
        ['scores_by_type.png', 'summaries_vs_lead3.png', 'latency.png']
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    by_type = outcome.summary["metrics"]["qa_by_type"]
    if by_type:
        path = outcome.out_dir / "scores_by_type.png"
        _bar_chart(plt, path, list(by_type), CHART_METRICS, by_type, "QA scores by question type")
        paths.append(path)
    summary = outcome.summary["metrics"]["summary"]
    if summary["cases"]:
        path = outcome.out_dir / "summaries_vs_lead3.png"
        groups = {
            "summaries": summary,
            "lead-3 baseline": summary["baseline_lead3"],
            "lead, same length": summary["baseline_lead_same_length"],
        }
        names = (
            ("key_fact_coverage", "key facts"),
            ("rouge1", "ROUGE-1"),
            ("rouge2", "ROUGE-2"),
            ("rougeL", "ROUGE-L"),
            ("supported_rate", "supported"),
        )
        _bar_chart(plt, path, list(groups), names, groups, "Summaries vs lead-3 baseline")
        paths.append(path)
    latencies = {
        kind: [r["latency_s"] for r in outcome.results if r["kind"] == kind and r.get("latency_s")]
        for kind in ("qa", "summary")
    }
    if any(latencies.values()):
        path = outcome.out_dir / "latency.png"
        fig, ax = plt.subplots(figsize=(7, 4))
        for kind, values in latencies.items():
            if values:
                ax.hist(values, bins=min(20, max(5, len(values))), alpha=0.6, label=kind)
        ax.set_xlabel("seconds per case")
        ax.set_ylabel("cases")
        ax.set_title("Latency distribution")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths


def _bar_chart(
    plt: Any,
    path: Path,
    groups: list[str],
    series: Sequence[tuple[str, str]],
    values: Mapping[str, Mapping[str, Any]],
    title: str,
) -> None:
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(groups) + 3), 4))
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        heights = [values[g].get(key) or 0.0 for g in groups]
        positions = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        ax.bar(positions, heights, width=width, label=label)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels(groups)
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("score (0-1)")
    ax.set_title(title)
    ax.legend(fontsize=8, ncols=min(5, len(series)), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


_QA_ROWS = (
    ("cases", "Cases"),
    ("errors", "Errors"),
    ("hit_at_k", "Retrieval hit@k"),
    ("recall_at_k", "Retrieval recall@k (all gold articles)"),
    ("mrr", "Retrieval MRR"),
    ("exact_match", "Exact match"),
    ("f1", "Token F1"),
    ("contains_answer", "Contains a gold answer"),
    ("must_include_recall", "must_include recall"),
    ("refusal_rate", "Refusal rate (unanswerable cases, higher is better)"),
    ("false_refusal_rate", "False-refusal rate (answerable cases, lower is better)"),
    ("abstention_accuracy", "Abstention accuracy (not gated alone)"),
    ("citation_validity", "Citation validity (every answerable case)"),
    ("score", "Case score (mean)"),
    ("latency_p50_s", "Latency p50 (s)"),
    ("latency_p95_s", "Latency p95 (s)"),
    ("prompt_tokens_mean", "Prompt tokens per case (mean)"),
    ("prompt_tokens_p95", "Prompt tokens per case (p95)"),
)
_SUMMARY_ROWS = (
    ("key_fact_coverage", "Key-fact coverage"),
    ("rouge1", "ROUGE-1 F"),
    ("rouge2", "ROUGE-2 F"),
    ("rougeL", "ROUGE-L F"),
    ("supported_rate", "Supported by the article (grading check)"),
    ("faithful_rate", "Summarizer's own faithfulness check passed"),
    ("forbidden_free_rate", "No forbidden claim (failed summaries count as failures)"),
    ("words_mean", "Words (mean)"),
)
_FLOOR_ROWS = (
    ("refusal_rate", "Refusal rate"),
    ("false_refusal_rate", "False-refusal rate"),
    ("abstention_accuracy", "Abstention accuracy"),
    ("hit_at_k", "Retrieval hit@k"),
    ("recall_at_k", "Retrieval recall@k"),
    ("mrr", "Retrieval MRR"),
    ("f1", "Token F1"),
    ("must_include_recall", "must_include recall"),
    ("citation_validity", "Citation validity"),
    ("score", "Case score (mean)"),
)
_FLOOR_NAMES = (
    ("never_abstain", "Never abstain"),
    ("always_abstain", "Always abstain"),
    ("random_retrieval", "Random retrieval"),
)
_PIPELINE_LABELS = {NAIVE_FLOOR: "Naive pipeline"}


def render_report(outcome: EvalOutcome, charts: Sequence[str] = ()) -> str:
    """The Markdown report: thresholds, tables overall and per type, worst cases.

    Example:
        >>> print(render_report(outcome))  # doctest: +SKIP
    """
    m = outcome.summary["metrics"]
    lines = _report_header(outcome)
    lines += _report_thresholds(outcome.thresholds)
    if m["qa"]["cases"]:
        lines += ["## Question answering", "", "| Metric | Value |", "|---|---|"]
        lines += [f"| {label} | {_fmt(m['qa'].get(key))} |" for key, label in _QA_ROWS]
        if m.get("judge"):
            judge = m["judge"]
            lines += [
                f"| LLM judge faithfulness ({judge['model']}) | {_fmt(judge['faithfulness'])} |",
                f"| LLM judge correctness ({judge['model']}) | {_fmt(judge['correctness'])} |",
            ]
        lines += ["", *_report_squad(m.get("squad") or {})]
        lines += _report_floors(m["qa"], m.get("floors") or {})
        lines += _report_by_type(m["qa_by_type"])
        if "scores_by_type.png" in charts:
            lines += ["![QA scores by question type](scores_by_type.png)", ""]
    lines += _report_baselines(outcome)
    if m["summary"]["cases"]:
        lines += _report_summaries(m["summary"])
        if "summaries_vs_lead3.png" in charts:
            lines += ["![Summaries vs lead-3](summaries_vs_lead3.png)", ""]
    elif outcome.suite.summary_cases and not outcome.summary["run"].get("retrieval_only"):
        pipeline = outcome.summary["run"].get("pipeline")
        lines += [f"Summaries: not measured (the {pipeline} pipeline does not summarize).", ""]
    if "latency.png" in charts:
        lines += ["## Latency", "", "![Latency distribution](latency.png)", ""]
    lines += _report_worst(outcome.results)
    if outcome.comparison is not None:
        lines += _comparison_lines(outcome.comparison, top=10)
    warnings = outcome.summary["run"].get("warnings") or []
    if warnings:
        lines += ["## Warnings", "", *[f"- {_cell(w)}" for w in warnings], ""]
    return "\n".join(lines).rstrip() + "\n"


def _report_header(outcome: EvalOutcome) -> list[str]:
    run = outcome.summary["run"]
    settings = run["settings"]
    service = run.get("service") or {}
    llm = service.get("llm") or settings.get("llm_model")
    if isinstance(llm, Mapping):
        llm = llm.get("model") or llm.get("name") or json.dumps(llm, default=str)
    verdict = "PASSED" if outcome.passed else "FAILED"
    ingest = run.get("ingest") or {}
    retrieval = f"{settings.get('retrieval_mode')}, k={settings.get('retrieval_k')}"
    if service.get("pipeline"):  # another pipeline retrieves its own way
        retrieval = str(service.get("retrieval"))
    pipeline = run.get("pipeline") or "news-rag"
    if run.get("baseline"):
        pipeline += f", with the {run['baseline']} baseline beside it"
    if run.get("baseline_run"):
        pipeline += f", beside the earlier {NAIVE_FLOOR} run in `{run['baseline_run']}`"
    lines = [
        f"# Eval report: {outcome.suite.name}",
        "",
        f"**Result: {verdict}** ({sum(t['passed'] for t in outcome.thresholds)} of "
        f"{len(outcome.thresholds)} thresholds met)",
        "",
        f"- Suite: `{run['suite_file']}`"
        + (f" — {run['description']}" if run["description"] else ""),
        f"- Started: {run['started']} (UTC), took {_fmt(run.get('seconds'), 1)} s",
        f"- Pipeline: {pipeline}",
        f"- LLM: {llm}; embedder: {service.get('embedder') or _embedder_label(settings)}",
        f"- Retrieval: {retrieval}; "
        f"collection `{run['collection']}` ({ingest.get('articles', '?')} articles)",
    ]
    if run.get("retrieval_only"):
        lines.append("- Mode: retrieval only (no LLM: answers and summaries not measured)")
    if run.get("judge_model"):
        lines.append(f"- LLM judge: {run['judge_model']} (scores labelled with this model)")
    return [*lines, ""]


def _embedder_label(settings: Mapping[str, Any]) -> str:
    if settings.get("embedding_provider") == "local":
        return "all-MiniLM-L6-v2 (local)"
    return str(settings.get("embedding_model"))


def _report_thresholds(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return ["No thresholds in this suite.", ""]
    lines = [
        "## Thresholds",
        "",
        "| Metric | Bound | Stated against | Value | Result |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        bound = " and ".join(
            f"{'≥' if k == 'min' else '≤'} {_fmt(row[k])}" for k in ("min", "max") if k in row
        )
        verdict = "pass" if row["passed"] else "**FAIL**"
        lines.append(
            f"| `{row['metric']}` | {bound} | {_against(row)} | {_fmt(row['value'])} | {verdict} |"
        )
    return [*lines, ""]


def _against(row: Mapping[str, Any]) -> str:
    """The floor a threshold is stated against: ``path`` (its value) ± margin, or "fixed"."""
    path = row.get("min_over") or row.get("max_under")
    if not path:
        return "fixed"
    shift = float(row.get("margin", 0.0)) * (1 if "min_over" in row else -1)
    offset = f" {'+' if shift > 0 else '−'} {_fmt(abs(shift), 2)}" if shift else ""
    return f"`{path}` ({_fmt(row.get('floor'))}){offset}"


def _report_floors(qa: Mapping[str, Any], floors: Mapping[str, Any]) -> list[str]:
    """The QA metrics beside the constant-policy floors computed in the same run.

    A peer pipeline's floor (``floors.naive``) has its own table: :func:`_report_baselines`.
    """
    present = [(key, label) for key, label in _FLOOR_NAMES if floors.get(key)]
    if not present:
        return []
    lines = [
        "### Against the floors",
        "",
        "What trivial policies score on the same cases, computed without any model "
        "(— where a policy does not determine a metric).",
        "",
        "| Metric | This run | " + " | ".join(label for _, label in present) + " |",
        "|---|---|" + "---|" * len(present),
    ]
    for key, label in _FLOOR_ROWS:
        values = [(floors[name].get("qa") or {}).get(key) for name, _ in present]
        lines.append(
            f"| {label} | {_fmt(qa.get(key))} | " + " | ".join(_fmt(v) for v in values) + " |"
        )
    return [*lines, ""]


_SQUAD_ROWS = (
    ("exact", "f1", "total", "All questions"),
    ("has_ans_exact", "has_ans_f1", "has_ans_total", "HasAns (answerable)"),
    ("no_ans_accuracy", "no_ans_accuracy", "no_ans_total", "NoAns (declined when unanswerable)"),
)


def _report_squad(squad: Mapping[str, Any]) -> list[str]:
    if not squad.get("total"):
        return []
    lines = [
        "### SQuAD-style exact match and F1",
        "",
        "Official SQuAD normalization; an abstention is the empty answer (right only on "
        "unanswerable questions).",
        "",
        "| Questions | EM | F1 | Cases |",
        "|---|---|---|---|",
    ]
    for em, f1, total, label in _SQUAD_ROWS:
        lines.append(
            f"| {label} | {_fmt(squad.get(em))} | {_fmt(squad.get(f1))} | "
            f"{_fmt(squad.get(total))} |"
        )
    return [*lines, ""]


_BASELINE_SQUAD_ROWS = (
    ("exact", "SQuAD EM"),
    ("f1", "SQuAD F1"),
    ("has_ans_exact", "SQuAD HasAns EM"),
    ("has_ans_f1", "SQuAD HasAns F1"),
    ("no_ans_accuracy", "SQuAD NoAns accuracy"),
)


def _report_baselines(outcome: EvalOutcome) -> list[str]:
    """One table per peer pipeline's floor (``metrics.floors.<name>``): run beside this one
    (``--baseline``) or read from an earlier run (``baseline_run``)."""
    m = outcome.summary["metrics"]
    pipeline = outcome.summary["run"].get("pipeline") or "news-rag"
    lines: list[str] = []
    for name, floor in (m.get("floors") or {}).items():
        if not isinstance(floor, Mapping) or floor.get("pipeline") != name:
            continue  # other floors (constant policies) are reported elsewhere
        source = (
            "Measured in this run"
            if floor.get("run") == BASELINE_THIS_RUN
            else f"Read from the earlier run in `{floor.get('run')}` ({floor.get('started')})"
        )
        lines += [
            f"## {pipeline} beside the {name} baseline",
            "",
            f"The same questions, store and chat model; `{name}` answers with its own "
            f"chunks, retrieval and prompt (see evals/README.md). {source}.",
            "",
            f"| Metric | {pipeline} | {_PIPELINE_LABELS.get(name, name)} |",
            "|---|---|---|",
        ]
        theirs_qa = floor.get("qa") or {}
        for key, label in _QA_ROWS:
            lines.append(f"| {label} | {_fmt(m['qa'].get(key))} | {_fmt(theirs_qa.get(key))} |")
        ours, theirs = m.get("squad") or {}, floor.get("squad") or {}
        for key, label in _BASELINE_SQUAD_ROWS:
            lines.append(f"| {label} | {_fmt(ours.get(key))} | {_fmt(theirs.get(key))} |")
        lines.append("")
    return lines


def _report_by_type(by_type: Mapping[str, Mapping[str, Any]]) -> list[str]:
    cols = (
        ("cases", "Cases"),
        ("hit_at_k", "hit@k"),
        ("mrr", "MRR"),
        ("f1", "F1"),
        ("must_include_recall", "must-include"),
        ("refusal_rate", "refusals"),
        ("false_refusal_rate", "false refusals"),
        ("citation_validity", "citations"),
        ("score", "score"),
        ("latency_p50_s", "p50 s"),
    )
    lines = [
        "### By question type",
        "",
        "| Type | " + " | ".join(label for _, label in cols) + " |",
        "|---|" + "---|" * len(cols),
    ]
    for kind, values in by_type.items():
        lines.append(f"| {kind} | " + " | ".join(_fmt(values.get(k)) for k, _ in cols) + " |")
    return [*lines, ""]


def _report_summaries(summary: Mapping[str, Any]) -> list[str]:
    base = summary["baseline_lead3"]
    same = summary.get("baseline_lead_same_length") or {}
    lines = [
        "## Summaries",
        "",
        f"{summary['cases']} cases, {summary['errors']} errors; latency p50 "
        f"{_fmt(summary['latency_p50_s'], 2)} s, p95 {_fmt(summary['latency_p95_s'], 2)} s. "
        "Lead-3 is the article's first three sentences; the same-length lead is its first "
        "words, as many as each summary has.",
        "",
        "| Metric | Summaries | Lead-3 baseline | Lead, same length |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {label} | {_fmt(summary.get(key))} | {_fmt(base.get(key))} | {_fmt(same.get(key))} |"
        for key, label in _SUMMARY_ROWS
    ]
    return [*lines, ""]


def _report_worst(results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines: list[str] = []
    for kind, title in (("qa", "Worst QA cases"), ("summary", "Worst summaries")):
        rows = [r for r in results if r["kind"] == kind]
        rows.sort(key=lambda r: (r.get("score") if r.get("score") is not None else -1, r["id"]))
        worst = [r for r in rows if (r.get("score") if r.get("score") is not None else -1) < 1]
        if not worst:
            continue
        lines += [f"## {title}", ""]
        for row in worst[:WORST_CASES]:
            lines += _qa_case_lines(row) if kind == "qa" else _summary_case_lines(row)
    return lines


def _qa_case_lines(row: Mapping[str, Any]) -> list[str]:
    s = row.get("scores") or {}
    lines = [f"### `{row['id']}` ({row['type']}) — score {_fmt(row.get('score'))}", ""]
    for user, assistant in row.get("history") or []:
        lines.append(f"- History: *{_cell(user)}* → {_cell(assistant, 200)}")
    lines.append(f"- Question: **{_cell(row['question'])}**")
    expected = "; ".join(row.get("gold_answers") or []) or "(should abstain)"
    lines.append(f"- Expected: {_cell(expected)}")
    lines.append(
        f"- Answer{' (abstained)' if row.get('abstained') else ''}: {_cell(row.get('answer'), 600)}"
    )
    gold = {i for group in row.get("gold_article_ids") or [] for i in group}
    cited = {c.get("number") for c in row.get("citations") or []}
    for source in row.get("retrieved") or []:
        mark = "gold" if source["article_id"] in gold else "other"
        if source.get("number") is not None and source.get("number") in cited:
            mark += ", cited"
        lines.append(
            f"  - source {source.get('rank')}: {_cell(source.get('title'), 90)} "
            f"(`{source['article_id'][:12]}`, {mark}) — {_cell(source.get('text'), 140)}"
        )
    lines.append(
        "- Scores: "
        + ", ".join(
            f"{name} {_fmt(s.get(name))}"
            for name in (
                "hit_at_k",
                "mrr",
                "must_include_recall",
                "refusal_rate",
                "false_refusal_rate",
                "citation_validity",
                "f1",
            )
            if s.get(name) is not None
        )
    )
    if row.get("error"):
        lines.append(f"- Error: {_cell(row['error'])}")
    return [*lines, ""]


def _summary_case_lines(row: Mapping[str, Any]) -> list[str]:
    s = row.get("scores") or {}
    lines = [
        f"### `{row['id']}` — {_cell(row.get('title'), 100)} — score {_fmt(row.get('score'))}",
        "",
        f"- Summary: {_cell(row.get('summary'), 700)}",
        f"- Key facts missed: {', '.join(s.get('key_facts_missed') or []) or 'none'}",
        f"- Unsupported by the article: {'; '.join(s.get('unsupported') or []) or 'none'}",
        f"- Faithfulness issues: {'; '.join(s.get('faithfulness_issues') or []) or 'none'}",
        f"- Forbidden claims made: {', '.join(s.get('forbidden_made') or []) or 'none'}",
    ]
    base = (row.get("baseline") or {}).get("key_fact_coverage")
    lines.append(f"- Key-fact coverage {_fmt(s.get('key_fact_coverage'))} (lead-3: {_fmt(base)})")
    if row.get("error"):
        lines.append(f"- Error: {_cell(row['error'])}")
    return [*lines, ""]


_COMPARE_METRICS = (
    "qa.hit_at_k",
    "qa.mrr",
    "qa.f1",
    "qa.must_include_recall",
    "qa.refusal_rate",
    "qa.false_refusal_rate",
    "qa.abstention_accuracy",
    "qa.citation_validity",
    "qa.score",
    "qa.latency_p50_s",
    "qa.latency_p95_s",
    "summary.key_fact_coverage",
    "summary.rougeL",
    "summary.supported_rate",
    "summary.faithful_rate",
    "summary.forbidden_free_rate",
    "summary.latency_p50_s",
)


def _comparison_lines(comparison: Comparison, top: int | None = None) -> list[str]:
    lines = [
        f"## Compared with `{comparison.old_dir}`",
        "",
        "| Metric | Before | Now | Change |",
        "|---|---|---|---|",
    ]
    chosen = [row for row in comparison.metrics if row["metric"] in _COMPARE_METRICS]
    for row in chosen:
        delta = row["delta"]
        sign = "" if delta is None else ("+" if delta > 0 else "")
        lines.append(
            f"| `{row['metric']}` | {_fmt(row['old'])} | {_fmt(row['new'])} | {sign}{_fmt(delta)} |"
        )
    lines.append("")
    for title, cases in (
        ("Regressions", comparison.regressions),
        ("Improvements", comparison.improvements),
    ):
        cases = sorted(cases, key=lambda c: c["delta"], reverse=title == "Improvements")
        lines += [f"### {title} ({len(cases)})", ""]
        if not cases:
            lines += ["None.", ""]
            continue
        lines += ["| Case | Before | Now | Now answered |", "|---|---|---|---|"]
        for case in cases[:top] if top else cases:
            lines.append(
                f"| `{case['id']}` | {_fmt(case['old'])} | {_fmt(case['new'])} | "
                f"{_cell(case['new_output'], 160)} |"
            )
        lines.append("")
    if comparison.added or comparison.removed:
        lines += [
            f"New cases: {', '.join(comparison.added) or 'none'}; "
            f"removed cases: {', '.join(comparison.removed) or 'none'}.",
            "",
        ]
    return lines


def render_comparison(comparison: Comparison) -> str:
    """``compare.md``: metric deltas and every case whose score moved.

    Example:
        >>> print(render_comparison(outcome.comparison))  # doctest: +SKIP
    """
    lines = _comparison_lines(comparison)
    lines += [
        "## All cases",
        "",
        "| Case | Kind | Before | Now | Change |",
        "|---|---|---|---|---|",
    ]
    for case in comparison.cases:
        lines.append(
            f"| `{case['id']}` | {case['kind']} | {_fmt(case['old'])} | {_fmt(case['new'])} | "
            f"{_fmt(case['delta'])} |"
        )
    return "\n".join(lines) + "\n"
