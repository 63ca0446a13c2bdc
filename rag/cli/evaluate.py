"""``news-rag eval``: run an eval suite, print the verdict, write the report.

Example (shell):
    $ news-rag eval evals/smoke.yaml
    $ news-rag eval evals/full.yaml --limit 10 --out eval-runs/try --compare eval-runs/before
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rag.cli.common import handle_errors

if TYPE_CHECKING:
    from rich.progress import Progress

    from rag.evaluation import EvalOutcome

STAGES = {"ingest": "Ingesting corpus", "qa": "Questions", "summaries": "Summaries"}


class _ProgressBars:
    """A rich progress bar per stage, with ETA, fed by the runner's callback."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage not in self.tasks:
            self.tasks[stage] = self.progress.add_task(STAGES.get(stage, stage), total=total or 1)
        self.progress.update(self.tasks[stage], completed=done, total=total or 1)


def _progress() -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("elapsed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        transient=False,
    )


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def print_outcome(outcome: EvalOutcome) -> None:
    """Headline numbers, failed thresholds and regressions, then where the report is."""
    qa = outcome.summary["metrics"]["qa"]
    summary = outcome.summary["metrics"]["summary"]
    if qa["cases"]:
        click.echo(
            f"QA ({qa['cases']} cases): hit@k {_num(qa['hit_at_k'])}, MRR {_num(qa['mrr'])}, "
            f"must-include {_num(qa['must_include_recall'])}, "
            f"abstention {_num(qa['abstention_accuracy'])}, "
            f"citations {_num(qa['citation_validity'])}, F1 {_num(qa['f1'])}, "
            f"p50 {_num(qa['latency_p50_s'])} s, p95 {_num(qa['latency_p95_s'])} s"
        )
    if summary["cases"]:
        base = summary["baseline_lead3"]
        click.echo(
            f"Summaries ({summary['cases']} cases): key facts "
            f"{_num(summary['key_fact_coverage'])} (lead-3 {_num(base['key_fact_coverage'])}), "
            f"ROUGE-L {_num(summary['rougeL'])} (lead-3 {_num(base['rougeL'])}), "
            f"faithful {_num(summary['faithful_rate'])}"
        )
    judge = outcome.summary["metrics"].get("judge")
    if judge:
        click.echo(
            f"LLM judge ({judge['model']}): faithfulness {_num(judge['faithfulness'])}, "
            f"correctness {_num(judge['correctness'])}"
        )
    if outcome.comparison is not None:
        regressions = outcome.comparison.regressions
        click.echo(
            f"Compared with {outcome.comparison.old_dir}: {len(regressions)} regressed, "
            f"{len(outcome.comparison.improvements)} improved"
        )
        for case in regressions[:10]:
            click.echo(f"  regressed: {case['id']} {_num(case['old'])} -> {_num(case['new'])}")
    for row in outcome.failures:
        bound = ", ".join(f"{k} {_num(row[k])}" for k in ("min", "max") if k in row)
        click.echo(f"FAILED threshold {row['metric']}: {_num(row['value'])} (needs {bound})")
    verdict = "PASSED" if outcome.passed else "FAILED"
    click.echo(f"{verdict}: report in {outcome.out_dir / 'report.md'}")


@click.command(
    "eval",
    epilog="""\b
Examples:
  news-rag eval evals/smoke.yaml
  news-rag eval evals/full.yaml --limit 10 --out eval-runs/try
  news-rag eval evals/full.yaml --retrieval-mode bm25 --out eval-runs/bm25
  news-rag eval evals/full.yaml --retrieval-only --retrieval-mode dense
  news-rag eval evals/full.yaml --out eval-runs/after --compare eval-runs/before
  news-rag eval evals/smoke.yaml --judge      # adds LLM-as-judge scores (slower)

\b
Writes to the --out folder: report.md, summary.json, results.jsonl,
ragas.jsonl (question/answer/contexts/ground_truth) and PNG charts.
Exit status: 0 when every threshold of the suite holds, 1 otherwise.""",
)
@click.argument("suite", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--limit", type=click.IntRange(min=1), help="Run only the first N QA and N summary cases."
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default: eval-runs/<suite>-<timestamp>).",
)
@click.option(
    "--compare",
    "compare_dir",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="An earlier run's output folder: show the differences case by case.",
)
@click.option(
    "--retrieval-mode",
    type=click.Choice(["dense", "bm25", "hybrid"]),
    help="Override the retrieval mode (for ablations).",
)
@click.option(
    "--judge",
    is_flag=True,
    help="Also score answers with the configured LLM as a judge (labelled with its name).",
)
@click.option(
    "--retrieval-only",
    is_flag=True,
    help="Measure retrieval only (hit@k, recall@k, MRR): no LLM, fast, for ablations.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@handle_errors
def eval_command(
    suite: Path,
    limit: int | None,
    out_dir: Path | None,
    compare_dir: Path | None,
    retrieval_mode: str | None,
    judge: bool,
    retrieval_only: bool,
    quiet: bool,
) -> None:
    """Run an eval SUITE (a YAML file in evals/) and report answer and summary quality.

    The suite's corpus is ingested into its own collection (never your library), every
    question is asked through the library API, and the scores are checked against the
    suite's thresholds.
    """
    from rag.evaluation import load_suite, run_suite

    parsed = load_suite(suite)
    options: dict[str, Any] = {
        "out_dir": out_dir,
        "limit": limit,
        "compare": compare_dir,
        "retrieval_mode": retrieval_mode,
        "judge": judge,
        "retrieval_only": retrieval_only,
    }
    if quiet:
        outcome = run_suite(parsed, **options)
    else:
        with _progress() as progress:
            outcome = run_suite(parsed, progress=_ProgressBars(progress), **options)
    print_outcome(outcome)
    if not outcome.passed:
        raise SystemExit(1)
