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
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.errors import ConfigError, LLMUnavailableError, ModelError, RagError
from rag.evaluation import metrics, squad_metrics
from rag.evaluation.aggregation import aggregate
from rag.evaluation.articles import ArticleIndex
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
    "run_suite",
]

logger = logging.getLogger(__name__)


PIPELINES = ("news-rag", "naive")
"""``news-rag``: the library's own chain; ``naive``: the quick-start baseline
(rag.evaluation.naive)."""
PARTIAL_RESULTS = "results.partial.jsonl"  # rows written as they come; removed at the end
MAX_LLM_FAILURES = 3  # consecutive LLM failures (timeouts, connection) that stop a run
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
