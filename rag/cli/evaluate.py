"""``news-rag eval``: run an eval suite (verdict, report), or import a SQuAD-format dataset.

``news-rag eval SUITE ...`` is short for ``news-rag eval run SUITE ...``: a first argument
that is not a subcommand name is taken as the suite file.

Example (shell):
    $ news-rag eval evals/smoke.yaml
    $ news-rag eval evals/full.yaml --limit 10 --out eval-runs/try --compare eval-runs/before
    $ news-rag eval evals/smoke.yaml --baseline naive
    $ news-rag eval import-squad dev-v2.0.json --out eval-runs/squad --sample 300 --seed 13
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rag.cli.common import handle_errors

if TYPE_CHECKING:
    from rich.progress import Progress

    from rag.evaluation.outcome import EvalOutcome

STAGES = {
    "ingest": "Ingesting corpus",
    "qa": "Questions",
    "summaries": "Summaries",
    "naive:ingest": "Naive: indexing",
    "naive:qa": "Naive: questions",
    "news-rag:ingest": "news-rag: ingest",
    "news-rag:qa": "news-rag: questions",
}
PIPELINE_CHOICES = ("news-rag", "naive")


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
            f"refusals {_num(qa['refusal_rate'])}, "
            f"false refusals {_num(qa['false_refusal_rate'])}, "
            f"citations {_num(qa['citation_validity'])}, F1 {_num(qa['f1'])}, "
            f"p50 {_num(qa['latency_p50_s'])} s, p95 {_num(qa['latency_p95_s'])} s"
        )
    squad = outcome.summary["metrics"].get("squad") or {}
    if squad.get("total"):
        click.echo(
            f"SQuAD-style: EM {_num(squad['exact'])}, F1 {_num(squad['f1'])}; "
            f"HasAns EM {_num(squad['has_ans_exact'])}, F1 {_num(squad['has_ans_f1'])} "
            f"({squad['has_ans_total']}); NoAns accuracy {_num(squad['no_ans_accuracy'])} "
            f"({squad['no_ans_total']})"
        )
    for name, floor in (outcome.summary["metrics"].get("floors") or {}).items():
        if isinstance(floor, dict) and floor.get("pipeline") == name:
            _echo_baseline(name, floor)
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


def _echo_baseline(name: str, floor: dict[str, Any]) -> None:
    from rag.evaluation.floors import BASELINE_THIS_RUN

    qa, squad = floor.get("qa") or {}, floor.get("squad") or {}
    source = "" if floor.get("run") == BASELINE_THIS_RUN else f" (read from {floor.get('run')})"
    click.echo(
        f"Baseline {name} ({qa.get('cases', 0)} cases): hit@k {_num(qa.get('hit_at_k'))}, "
        f"must-include {_num(qa.get('must_include_recall'))}, "
        f"refusals {_num(qa.get('refusal_rate'))}, "
        f"false refusals {_num(qa.get('false_refusal_rate'))}, F1 {_num(qa.get('f1'))}, "
        f"SQuAD EM {_num(squad.get('exact'))} / F1 {_num(squad.get('f1'))}{source}"
    )


class EvalGroup(click.Group):
    """``eval`` subcommands; a first argument that names none of them is a suite file.

    So ``news-rag eval SUITE --limit 3`` runs ``news-rag eval run SUITE --limit 3``, and
    ``news-rag eval --help`` still shows the group's help.

    Example:
        >>> from click.testing import CliRunner
        >>> "does not exist" in CliRunner().invoke(eval_command, ["missing.yaml"]).output
        True
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(
    "eval",
    cls=EvalGroup,
    subcommand_metavar="(SUITE | COMMAND) [ARGS]...",
    epilog="""\b
Run a suite (the default subcommand: "run" may be left out):
  news-rag eval evals/smoke.yaml
  news-rag eval evals/full.yaml --limit 10 --out eval-runs/try
  news-rag eval evals/smoke.yaml --pipeline naive      # the quick-start RAG baseline
  news-rag eval evals/full.yaml --baseline naive       # news-rag and naive side by side
  news-rag eval run evals/smoke.yaml                   # the same, spelled out

\b
Import a SQuAD 2.0-format file as a suite, then run it:
  news-rag eval import-squad dev-v2.0.json --out eval-runs/squad --sample 300 --seed 13
  news-rag eval eval-runs/squad/squad.yaml --out eval-runs/squad-newsrag

See "news-rag eval run --help" for every option of a run.""",
)
def eval_command() -> None:
    """Run an eval SUITE (news-rag eval SUITE), or import a SQuAD-format dataset."""


@eval_command.command(
    "run",
    epilog="""\b
Examples:
  news-rag eval evals/smoke.yaml
  news-rag eval evals/full.yaml --limit 10 --out eval-runs/try
  news-rag eval evals/full.yaml --retrieval-mode bm25 --out eval-runs/bm25
  news-rag eval evals/full.yaml --retrieval-only --retrieval-mode dense
  news-rag eval evals/full.yaml --out eval-runs/after --compare eval-runs/before
  news-rag eval evals/smoke.yaml --judge      # adds LLM-as-judge scores (slower)
  news-rag eval evals/smoke.yaml --pipeline naive --out eval-runs/naive
  news-rag eval evals/smoke.yaml --baseline naive   # both pipelines, one report
  news-rag eval evals/smoke.yaml --baseline-run eval-runs/naive   # naive from an earlier run

\b
Writes to the --out folder: report.md, summary.json, results.jsonl,
ragas.jsonl (question/answer/contexts/ground_truth) and PNG charts
(with --baseline NAME also results.NAME.jsonl).
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
@click.option(
    "--pipeline",
    type=click.Choice(PIPELINE_CHOICES),
    default="news-rag",
    show_default=True,
    help="What answers: news-rag, or naive (LangChain's quick-start RAG on the same "
    "articles and models; summaries are skipped).",
)
@click.option(
    "--baseline",
    type=click.Choice(PIPELINE_CHOICES),
    help="Also run this pipeline's QA cases in the same run and report it side by side "
    "(summary.json: metrics.floors.NAME).",
)
@click.option(
    "--baseline-run",
    type=click.Path(exists=True, path_type=Path),
    help="An earlier naive run's --out folder: its numbers become metrics.floors.naive "
    "(instead of --baseline naive).",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
@handle_errors
def run_command(
    suite: Path,
    limit: int | None,
    out_dir: Path | None,
    compare_dir: Path | None,
    retrieval_mode: str | None,
    judge: bool,
    retrieval_only: bool,
    pipeline: str,
    baseline: str | None,
    baseline_run: Path | None,
    quiet: bool,
) -> None:
    """Run an eval SUITE (a YAML file in evals/) and report answer and summary quality.

    The suite's corpus is ingested into its own collection (never your library), every
    question is asked through the library API, and the scores are checked against the
    suite's thresholds.
    """
    from rag.evaluation.runner import run_suite
    from rag.evaluation.suite import load_suite

    parsed = load_suite(suite)
    options: dict[str, Any] = {
        "out_dir": out_dir,
        "limit": limit,
        "compare": compare_dir,
        "retrieval_mode": retrieval_mode,
        "judge": judge,
        "retrieval_only": retrieval_only,
        "pipeline": pipeline,
        "baseline": baseline,
        "baseline_run": baseline_run,
    }
    if quiet:
        outcome = run_suite(parsed, **options)
    else:
        with _progress() as progress:
            outcome = run_suite(parsed, progress=_ProgressBars(progress), **options)
    print_outcome(outcome)
    if not outcome.passed:
        raise SystemExit(1)


@eval_command.command(
    "import-squad",
    epilog="""\b
Examples:
  news-rag eval import-squad dev-v2.0.json --out eval-runs/squad
  news-rag eval import-squad dev-v2.0.json --out eval-runs/squad --sample 300 --seed 13
  news-rag eval eval-runs/squad/squad.yaml --out eval-runs/squad-newsrag --baseline naive

\b
Writes to --out: corpus/ (one article per title, paragraphs joined), NAME_qa.jsonl
(answerable questions with all gold answers; unanswerable ones expect an abstention),
NAME.yaml (the suite: temperature 0, only errors gated) and README.md.""",
)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the corpus, dataset and suite into.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Keep N questions, stratified by article and answerable/unanswerable.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option(
    "--name", help="Suite name (and collection eval-NAME); default: the --out folder's name."
)
@handle_errors
def import_squad_command(
    file: Path, out_dir: Path, sample: int | None, seed: int, name: str | None
) -> None:
    """Import a SQuAD 2.0-format FILE as an eval suite (corpus, QA dataset, suite file)."""
    from rag.evaluation.squad import import_squad

    result = import_squad(file, out_dir, sample=sample, seed=seed, name=name)
    click.echo(
        f"Wrote {result.articles} articles to {result.corpus_dir} and "
        f"{result.answerable + result.unanswerable} questions ({result.answerable} answerable, "
        f"{result.unanswerable} unanswerable) to {result.dataset_path}"
    )
    click.echo(f"Run it: news-rag eval {result.suite_path}")
