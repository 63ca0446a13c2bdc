"""PNG charts of a run: QA scores per question type, summaries against the lead baselines,
the latency distribution.

matplotlib is imported only when charts are drawn (``Agg``, no display), so importing this
module stays cheap.

Example:
    >>> [label for _, label in CHART_METRICS][:3]
    ['hit@k', 'MRR', 'must-include']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.evaluation.outcome import EvalOutcome

__all__ = ["CHART_METRICS", "write_charts"]


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

    Example (``outcome`` comes from a run with the models):
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
