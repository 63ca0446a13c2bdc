"""The Markdown reports: ``report.md`` (verdict, thresholds, tables against the floors and
baselines, worst cases) and ``compare.md`` (what moved since an earlier run).

Example:
    >>> from rag.evaluation.compare import Comparison
    >>> comparison = Comparison(old_dir="before", cases=[
    ...     {"id": "q1", "kind": "qa", "old": 1.0, "new": 0.5, "delta": -0.5,
    ...      "old_output": "Ruiz", "new_output": "Mensah"}])
    >>> text = render_comparison(comparison)
    >>> print(text.splitlines()[0])
    ## Compared with `before`
    >>> "| `q1` | 1.000 | 0.500 | Mensah |" in text
    True
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from rag.evaluation.compare import Comparison
from rag.evaluation.floors import BASELINE_THIS_RUN, NAIVE_FLOOR
from rag.evaluation.outcome import EvalOutcome

__all__ = ["WORST_CASES", "render_comparison", "render_report"]


WORST_CASES = 8


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

    Example (``outcome`` comes from a run with the models):
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

    Example (``outcome`` comes from a run with the models):
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
