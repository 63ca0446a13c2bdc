"""Evaluation: eval suites, metrics, the runner and its reports, SQuAD import, the naive baseline.

Example:
    >>> from rag.evaluation import run_suite
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "aggregation": ("aggregate",),
    "articles": ("ArticleIndex",),
    "compare": ("Comparison", "compare_runs"),
    "floors": ("compute_floors", "floor_entry", "load_baseline_run"),
    "judge": ("parse_judge_reply",),
    "metrics": (
        "Alternatives",
        "abstention_correct",
        "citation_valid",
        "citation_validity",
        "contains_answer",
        "evidence_recall",
        "exact_match",
        "f1_score",
        "forbidden_violations",
        "has_keyword",
        "hit_at_k",
        "key_fact_coverage",
        "keyword_recall",
        "lead_n",
        "lead_words",
        "mean",
        "normalize_answer",
        "normalize_keywords",
        "percentile",
        "random_retrieval_scores",
        "recall_at_k",
        "reciprocal_rank",
        "refusals",
        "rouge_scores",
        "strip_citations",
        "unsupported_claims",
    ),
    "naive": (
        "CHUNK_OVERLAP",
        "CHUNK_SIZE",
        "COLLECTION_SUFFIX",
        "NaiveIndex",
        "NaiveRAG",
        "PIPELINE_NAME",
        "PROMPT_NAME",
        "TOP_K",
        "format_docs",
        "is_naive_abstention",
        "make_splitter",
        "split_article",
    ),
    "outcome": ("EvalOutcome",),
    "runner": ("run_suite",),
    "scoring": ("grading_source", "score_qa", "score_summary"),
    "squad": (
        "ImportResult",
        "SOURCE_NAME",
        "SquadArticle",
        "SquadQuestion",
        "URL_PREFIX",
        "article_url",
        "evidence_sentence",
        "import_squad",
        "read_squad",
        "stratified_sample",
    ),
    "squad_metrics": (
        "SQUAD_METRICS",
        "answer_text",
        "case_scores",
        "failure_scores",
        "normalize",
        "squad_exact",
        "squad_f1",
    ),
    "suite": ("QACase", "QA_TYPES", "Suite", "SummaryCase", "load_suite"),
    "thresholds": ("check_thresholds",),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
