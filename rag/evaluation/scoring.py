"""Scoring one case: every QA metric of an answer, every check of a summary.

The metric functions are in :mod:`rag.evaluation.metrics`; this module applies them to a
case and its expectations. It also says what a failed case scores and what a graded
summary may draw on.

Example:
    >>> from rag.evaluation.suite import QACase
    >>> case = QACase(id="u", type="unanswerable", question="Who?", answerable=False)
    >>> scores = score_qa(case, "", True, [], [], [], k=5)
    >>> scores["refusal_rate"], scores["score"], scores["hit_at_k"]
    (1.0, 1.0, None)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rag.evaluation import metrics, squad_metrics
from rag.evaluation.suite import QACase, SummaryCase
from rag.text import published_day, spelled_day

__all__ = [
    "QA_METRICS",
    "RETRIEVAL_METRICS",
    "SUMMARY_METRICS",
    "failed_scores",
    "grading_source",
    "score_qa",
    "score_summary",
]


QA_METRICS = (
    "hit_at_k",
    "recall_at_k",
    "mrr",
    "exact_match",
    "f1",
    "contains_answer",
    "must_include_recall",
    "refusal_rate",
    "false_refusal_rate",
    "abstention_accuracy",
    "citation_validity",
)
SUMMARY_METRICS = (
    "key_fact_coverage",
    "rouge1",
    "rouge2",
    "rougeL",
    "supported_rate",
    "faithful_rate",
    "forbidden_free_rate",
)
RETRIEVAL_METRICS = ("hit_at_k", "recall_at_k", "mrr")


def score_qa(
    case: QACase,
    answer_text: str,
    abstained: bool,
    retrieved: Sequence[str],
    citations: Sequence[tuple[str, str]],
    gold_ids: Sequence[Sequence[str]],
    k: int,
) -> dict[str, float | None]:
    """Every QA metric for one case; ``None`` where a metric does not apply.

    ``retrieved`` is the ranked article id of each retrieved chunk; ``citations`` the
    ``(article_id, chunk text)`` pairs the answer cites; ``gold_ids`` the resolved gold
    requirements (each a list of acceptable ids).

    Abstaining on an answerable case is a false refusal and scores 0 on every answer
    metric, citation validity included (there is nothing valid to cite).

    Example:
        >>> case = QACase(id="q", type="single", question="Who?", answers=["Mensah"],
        ...               must_include=["Mensah"], gold_articles=["a"])
        >>> s = score_qa(case, "Kofi Mensah [1].", False, ["a"], [("a", "Mensah scored")],
        ...              [["a"]], k=5)
        >>> s["hit_at_k"], s["must_include_recall"], s["citation_validity"], s["score"]
        (1.0, 1.0, 1.0, 1.0)
        >>> s["false_refusal_rate"], s["refusal_rate"]
        (0.0, None)
    """
    scores: dict[str, float | None] = dict.fromkeys(QA_METRICS)
    scores["abstention_accuracy"] = metrics.abstention_correct(abstained, case.answerable)
    refusal, false_refusal = metrics.refusals(abstained, case.answerable)
    scores["refusal_rate"], scores["false_refusal_rate"] = refusal, false_refusal
    if not case.answerable:
        scores["score"] = scores["abstention_accuracy"]
        return scores
    if gold_ids:
        scores["hit_at_k"] = metrics.hit_at_k(retrieved, gold_ids, k)
        scores["recall_at_k"] = metrics.recall_at_k(retrieved, gold_ids, k)
        scores["mrr"] = metrics.reciprocal_rank(retrieved, gold_ids)
    text = "" if abstained else answer_text
    if case.answers:
        scores["exact_match"] = metrics.exact_match(text, case.answers)
        scores["f1"] = metrics.f1_score(text, case.answers)
        scores["contains_answer"] = metrics.contains_answer(text, case.answers)
    recall = metrics.keyword_recall(text, case.must_include)
    scores["must_include_recall"] = recall
    flat_gold = [i for group in gold_ids for i in group]
    scores["citation_validity"] = (
        0.0
        if abstained
        else metrics.citation_validity(citations, flat_gold, case.evidence, case.answers)
    )
    if abstained:
        scores["score"] = 0.0
    else:
        parts = (recall, scores["hit_at_k"], scores["citation_validity"])
        scores["score"] = metrics.mean(parts)
    return scores


def score_summary(
    case: SummaryCase, text: str, article_text: str, grounding: str | None = None
) -> dict[str, Any]:
    """Key-fact coverage, ROUGE (if a reference), support, faithfulness, forbidden claims.

    ``supported`` is the grading check (:func:`rag.evaluation.metrics.unsupported_claims` against
    ``grounding``: the article's title, outlet, date and text; default ``article_text``);
    ``faithful`` is the summarizer's own check, reported for comparison only. An empty
    summary fails every check.

    Example:
        >>> case = SummaryCase(id="s", article="u", key_facts=[{"fact": "r", "keywords": ["3.75"]}])
        >>> s = score_summary(case, "Rate cut to 3.75%.", "The bank cut to 3.75% on Thursday.")
        >>> s["key_fact_coverage"], s["supported"], s["faithful"], s["forbidden_free"]
        (1.0, True, True, True)
        >>> score_summary(case, "", "The bank cut to 3.75%.")["forbidden_free"]
        False
    """
    from rag.summaries.faithfulness import check_faithfulness

    clean = metrics.strip_citations(text)
    empty = not clean.strip()
    coverage, covered = metrics.key_fact_coverage(text, case.key_facts)
    made = metrics.forbidden_violations(text, case.forbidden)
    issues = ["empty summary"] if empty else check_faithfulness(clean, article_text).issues
    unsupported = metrics.unsupported_claims(text, grounding or article_text)
    scores: dict[str, Any] = {
        "key_fact_coverage": coverage,
        "key_facts_missed": [
            f.get("fact", "") for f, ok in zip(case.key_facts, covered, strict=True) if not ok
        ],
        "supported": not unsupported,
        "unsupported": unsupported,
        "faithful": not issues,
        "faithfulness_issues": issues,
        "forbidden_made": made,
        "forbidden_free": not made and not empty,
        "words": len(clean.split()),
    }
    scores.update(dict.fromkeys(("rouge1", "rouge2", "rougeL")))
    if case.reference:
        scores.update(metrics.rouge_scores(text, case.reference))
    scores["score"] = metrics.mean(
        [coverage, float(scores["supported"]), float(scores["forbidden_free"])]
    )
    return scores


def grading_source(article: Any) -> str:
    """What a graded summary may draw on: title, outlet, author, date (ISO and spelled out), text.

    Example:
        >>> from types import SimpleNamespace as A
        >>> grading_source(A(title="T", outlet="Post", author=None, published="2025-02-14",
        ...                  text="Body."))
        'T\\nPost 2025-02-14 Friday February 14, 2025 14 February 2025\\nBody.'
    """
    published = str(getattr(article, "published", None) or "")
    day = published_day(published)
    spelled = f"{day:%A} {spelled_day(day)} {day.day} {day:%B %Y}" if day else ""
    parts = (getattr(article, "outlet", None), getattr(article, "author", None), published)
    meta = " ".join(str(p) for p in (*parts, spelled) if p)
    return f"{getattr(article, 'title', '') or ''}\n{meta}\n{article.text}"


def failed_scores(case: QACase, *, retrieval_only: bool = False) -> dict[str, float | None]:
    """A failed case's scores: 0 on every metric that applies, a false refusal if answerable.

    SQuAD EM and F1 are 0 as well, answerable or not (a failure is no abstention); they
    do not apply to a retrieval-only run.

    Example:
        >>> case = QACase(id="q", type="single", question="?", answers=["x"], gold_articles=["a"])
        >>> s = failed_scores(case)
        >>> s["hit_at_k"], s["f1"], s["citation_validity"], s["false_refusal_rate"], s["score"]
        (0.0, 0.0, 0.0, 1.0, 0.0)
        >>> s["squad_em"], s["squad_f1"]
        (0.0, 0.0)
    """
    scores = score_qa(case, "", False, [], [], [["(missing)"]] if case.answerable else [], 5)
    if retrieval_only:
        scores = {n: (scores[n] if n in RETRIEVAL_METRICS else None) for n in QA_METRICS}
    else:
        scores["abstention_accuracy"] = 0.0
        # scored as the wrong decision: a refusal when answerable, an answer when not
        scores["refusal_rate"], scores["false_refusal_rate"] = metrics.refusals(
            abstained=case.answerable, answerable=case.answerable
        )
        scores.update(
            squad_metrics.failure_scores(answers=case.answers, answerable=case.answerable)
        )
    scores["score"] = 0.0
    return scores
