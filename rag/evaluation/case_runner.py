"""The run loop: ingest a suite's corpus, then ask or summarize each case, one result row each.

:class:`CaseRunner` calls a service (the library facade, or a peer pipeline built on it),
times each call, scores it (:mod:`rag.evaluation.scoring`), has it judged when a judge is
given, and keeps the row, also on disk as it comes. A case that fails becomes a failed
row scored 0; a model error, or the LLM failing on several cases in a row, ends the run.

Example:
    >>> from rag.evaluation.suite import QACase
    >>> case = QACase(id="q", type="single", question="?", answers=["x"], gold_articles=["a"])
    >>> row = _qa_failure(case, "TimeoutError: no reply", 30.0)
    >>> row["score"], row["scores"]["false_refusal_rate"], row["error"]
    (0.0, 1.0, 'TimeoutError: no reply')
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import LLMUnavailableError, ModelError, RagError
from rag.evaluation import metrics, squad_metrics
from rag.evaluation.articles import ArticleIndex
from rag.evaluation.judge import Judge
from rag.evaluation.scoring import (
    QA_METRICS,
    failed_scores,
    grading_source,
    score_qa,
    score_summary,
)
from rag.evaluation.suite import QACase, Suite, SummaryCase
from rag.qa.relative_dates import date_relative_days

__all__ = ["MAX_LLM_FAILURES", "CaseRunner", "ProgressCallback"]

logger = logging.getLogger(__name__)


MAX_LLM_FAILURES = 3  # consecutive LLM failures (timeouts, connection) that stop a run
ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages: ingest, qa, summaries."""


def cited_text(citation: Any) -> str:
    """The cited chunk as its reader knows it: each weekday dated by the article's date.

    "Was sworn in on Thursday" in an article of Thursday, January 2, 2025 supports the
    answer "January 2, 2025"; the chunk's words alone do not say so.

    Example:
        >>> from rag.qa.answer import Citation
        >>> cited_text(Citation(number=1, article_id="a", title="t", published="2025-04-15",
        ...                     text="Work began on Tuesday."))
        'Work began on Tuesday (April 15, 2025).'
    """
    text = str(getattr(citation, "text", ""))
    return date_relative_days(text, str(getattr(citation, "published", "") or ""))


def _citation_dict(citation: Any) -> dict[str, Any]:
    return {
        "number": getattr(citation, "number", None),
        "article_id": str(getattr(citation, "article_id", "")),
        "title": str(getattr(citation, "title", "") or ""),
        "url": str(getattr(citation, "url", "") or ""),
        "published": str(getattr(citation, "published", "") or ""),
        "text": str(getattr(citation, "text", "") or ""),
    }


@dataclass(eq=False)
class CaseRunner:
    """Runs one suite's cases against one service; see :func:`rag.evaluation.runner.run_suite`.

    ``limit`` keeps the first cases of each kind; ``retrieval_only`` asks only the
    retriever (no LLM, no summaries); ``partial_path`` receives each row as it comes.

    Example:
        >>> from pathlib import Path
        >>> from rag.evaluation.suite import Suite, SummaryCase
        >>> case = SummaryCase(id="s1", article="https://a.example/x", key_facts=[])
        >>> suite = Suite(name="s", path=Path("s.yaml"), corpus=[], qa_cases=[],
        ...               summary_cases=[case])
        >>> runner = CaseRunner(suite, service=object(), settings=object(), progress=None,
        ...                     judge=None, limit=None)
        >>> runner.run_summaries()[0]["error"]  # nothing ingested: the article is not stored
        'article not in the store: https://a.example/x'
    """

    suite: Suite
    service: Any
    settings: Any
    _: KW_ONLY
    progress: ProgressCallback | None
    judge: Judge | None
    limit: int | None
    retrieval_only: bool = False
    partial_path: Path | None = None
    qa_cases: list[QACase] = field(init=False)
    summary_cases: list[SummaryCase] = field(init=False)
    k: int = field(init=False)
    index: ArticleIndex = field(default_factory=lambda: ArticleIndex([]), init=False)
    ingest_info: dict[str, Any] = field(default_factory=dict, init=False)
    warnings: list[str] = field(default_factory=list, init=False)
    results: list[dict[str, Any]] = field(default_factory=list, init=False)
    llm_failures: int = field(default=0, init=False)  # consecutive cases the LLM failed on

    def __post_init__(self) -> None:
        self.progress = self.progress or (lambda stage, done, total: None)
        limit, suite = self.limit, self.suite
        self.qa_cases = suite.qa_cases[:limit] if limit else suite.qa_cases
        self.summary_cases = suite.summary_cases[:limit] if limit else suite.summary_cases
        if self.retrieval_only or not getattr(self.service, "summarizes", True):
            self.summary_cases = []
        self.k = int(getattr(self.settings, "retrieval_k", 5))

    # --- corpus -------------------------------------------------------------------
    def ingest(self) -> None:
        """Ingest the suite's corpus, drop articles no longer in it, index the stored ones."""
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
        """Ask every QA case; returns the QA rows."""
        return self._run_cases("qa", self.qa_cases, self.qa_case, kind="qa")

    def _run_cases(
        self, stage: str, cases: Sequence[Any], run_case: Callable[[Any], dict[str, Any]], kind: str
    ) -> list[dict[str, Any]]:
        """Each case's row recorded in turn, progress named ``stage``; the rows of ``kind``."""
        total = len(cases)
        self.progress(stage, 0, total)
        for done, case in enumerate(cases, start=1):
            self._record(run_case(case))
            self.progress(stage, done, total)
        return [r for r in self.results if r["kind"] == kind]

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
        """One QA case's row: the answer, its passages and scores, or the error."""
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
        passages = list(getattr(answer, "passages", None) or getattr(answer, "citations", []))
        citations = list(getattr(answer, "citations", []) or [])
        text = str(getattr(answer, "answer", ""))
        abstained = bool(getattr(answer, "abstained", False))
        retrieved = [str(getattr(s, "article_id", "")) for s in passages]
        cited = [(str(getattr(c, "article_id", "")), cited_text(c)) for c in citations]
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
                    {**_citation_dict(s), "rank": rank} for rank, s in enumerate(passages, start=1)
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
        """Summarize every summary case; returns the summary rows."""
        return self._run_cases("summaries", self.summary_cases, self.summary_case, kind="summary")

    def summary_case(self, case: SummaryCase) -> dict[str, Any]:
        """One summary case's row: the summary and its scores beside the lead baselines."""
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
