"""Floors: what trivial policies and a peer pipeline score on the same QA cases.

Thresholds may be stated against a floor (``min_over: floors.never_abstain.refusal_rate``),
so a suite passes only by beating what costs nothing. The constant policies and a random
retriever are computed without any model (:func:`compute_floors`); the naive pipeline's
numbers come from a run beside this one or from an earlier run (:func:`load_baseline_run`).

Example:
    >>> rows = [{"kind": "qa", "id": "u", "type": "unanswerable", "answerable": False}]
    >>> floors = compute_floors(rows, {}, k=5)
    >>> floors["always_abstain"]["qa"]["refusal_rate"], floors["naive"]
    (1.0, None)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluation import metrics
from rag.evaluation.scoring import RETRIEVAL_METRICS, score_qa
from rag.evaluation.suite import QA_TYPES, QACase, Suite

__all__ = [
    "ALWAYS_ABSTAIN_METRICS",
    "BASELINE_THIS_RUN",
    "NAIVE_FLOOR",
    "NEVER_ABSTAIN_METRICS",
    "compute_floors",
    "floor_entry",
    "load_baseline_run",
]


NAIVE_FLOOR = "naive"  # metrics.floors.naive: from --baseline naive or an earlier naive run
BASELINE_THIS_RUN = "this run"  # a floor entry's "run" when measured beside this run
# What a constant policy is known to score without running anything: never abstaining
# gives no refusal and no false refusal; always abstaining also gives no answer at all.
NEVER_ABSTAIN_METRICS = ("refusal_rate", "false_refusal_rate", "abstention_accuracy")
ALWAYS_ABSTAIN_METRICS = (
    *NEVER_ABSTAIN_METRICS,
    "exact_match",
    "f1",
    "contains_answer",
    "must_include_recall",
    "citation_validity",
    "score",
)


def _mean_scores(
    rows: Sequence[tuple[str, Mapping[str, float | None]]], names: Sequence[str]
) -> dict[str, Any]:
    """``{"qa": {metric: mean}, "qa_by_type": {type: {...}}}`` from ``(type, scores)`` rows."""
    by_type: dict[str, list[Mapping[str, float | None]]] = defaultdict(list)
    for kind, scores in rows:
        by_type[kind].append(scores)

    def means(group: Sequence[Mapping[str, float | None]]) -> dict[str, Any]:
        return {"cases": len(group), **{n: metrics.mean(s.get(n) for s in group) for n in names}}

    return {
        "qa": means([scores for _, scores in rows]),
        "qa_by_type": {t: means(by_type[t]) for t in QA_TYPES if by_type.get(t)},
    }


def _case_of(row: Mapping[str, Any]) -> QACase:
    return QACase(
        id=str(row["id"]),
        type=str(row["type"]),
        question=str(row.get("question", "")),
        answers=list(row.get("gold_answers") or []),
        must_include=list(row.get("must_include") or []),
        gold_articles=list(row.get("gold_articles") or []),
        evidence=list(row.get("evidence") or []),
        answerable=bool(row.get("answerable", True)),
    )


def compute_floors(
    results: Sequence[Mapping[str, Any]],
    chunk_counts: Mapping[str, int],
    k: int,
    naive: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What trivial policies score on the same QA cases, computed without any model.

    - ``never_abstain``: answers every question (refusal rate 0, false-refusal rate 0,
      abstention accuracy = the share of answerable cases);
    - ``always_abstain``: refuses every question (refusal and false-refusal rates 1, and 0
      on every answer metric, so its case score is the share of unanswerable cases);
    - ``random_retrieval``: the expected hit@k, recall@k and MRR of ``k`` chunks drawn at
      random from the collection (``chunk_counts``: chunks per stored article);
    - ``naive``: a naive pipeline's run over the same suite (a :func:`floor_entry`: run
      beside this one with ``--baseline naive``, or read by :func:`load_baseline_run`),
      ``None`` unless given.

    Each floor has the shape of the metrics: ``qa`` and ``qa_by_type.<type>``.

    Example:
        >>> rows = [{"kind": "qa", "id": "u", "type": "unanswerable", "answerable": False},
        ...         {"kind": "qa", "id": "q", "type": "single", "answerable": True,
        ...          "gold_articles": ["a"], "gold_article_ids": [["a"]]}]
        >>> floors = compute_floors(rows, {"a": 1, "b": 3}, k=1)
        >>> floors["never_abstain"]["qa"]["abstention_accuracy"]
        0.5
        >>> floors["always_abstain"]["qa"]["false_refusal_rate"]
        1.0
        >>> floors["random_retrieval"]["qa"]["hit_at_k"]
        0.25
    """
    qa_rows = [r for r in results if r.get("kind") == "qa"]
    policies: dict[str, Any] = {}
    for name, abstain, kept in (
        ("never_abstain", False, NEVER_ABSTAIN_METRICS),
        ("always_abstain", True, ALWAYS_ABSTAIN_METRICS),
    ):
        scored = []
        for row in qa_rows:
            scores = score_qa(_case_of(row), "", abstain, [], [], [], k)
            scored.append((str(row["type"]), {n: scores.get(n) for n in kept}))
        policies[name] = _mean_scores(scored, kept)
    random_rows = [
        (
            str(row["type"]),
            metrics.random_retrieval_scores(chunk_counts, row.get("gold_article_ids") or [], k),
        )
        for row in qa_rows
        if row.get("answerable", True)
    ]
    policies["random_retrieval"] = _mean_scores(random_rows, RETRIEVAL_METRICS)
    policies["naive"] = dict(naive) if naive else None
    return policies


def floor_entry(
    pipeline: str,
    *,
    run: str,
    started: str | None,
    measured: Mapping[str, Any],
    warnings: Sequence[str] = (),
) -> dict[str, Any]:
    """A peer pipeline's QA numbers as a floor (``metrics.floors.<pipeline>``).

    ``measured`` holds the pipeline's aggregates (``qa``, ``qa_by_type``, ``squad``);
    ``run`` and ``started`` say where they come from: :data:`BASELINE_THIS_RUN` for a
    baseline run beside this one, or an earlier run's folder.

    Example:
        >>> entry = floor_entry("naive", run="this run", started="2025-01-01T00:00:00",
        ...                     measured={"qa": {"cases": 2, "f1": 0.4}})
        >>> entry["pipeline"], entry["qa"]["f1"], entry["squad"], entry["warnings"]
        ('naive', 0.4, {}, [])
    """
    return {
        "pipeline": pipeline,
        "run": run,
        "started": started,
        "qa": dict(measured.get("qa") or {}),
        "qa_by_type": dict(measured.get("qa_by_type") or {}),
        "squad": dict(measured.get("squad") or {}),
        "warnings": list(warnings),
    }


def load_baseline_run(path: str | Path, suite: Suite | None = None) -> dict[str, Any]:
    """A naive pipeline's earlier run of the same suite, as the ``floors.naive`` entry.

    ``path`` is that run's output folder (or its ``summary.json``). The entry
    (:func:`floor_entry`) holds its ``qa``, ``qa_by_type`` and ``squad`` metrics, where
    they came from, and any mismatch with ``suite`` (another suite, other cases) or with
    the naive pipeline under ``warnings``.

    Example (reads the output folder of an earlier run of the naive pipeline):
        >>> floor = load_baseline_run("eval-runs/naive")  # doctest: +SKIP
        >>> floor["qa"]["must_include_recall"]  # doctest: +SKIP
        0.41
    """
    path = Path(path)
    file = path / "summary.json" if path.is_dir() else path
    if not file.is_file():
        raise ConfigError(
            f"no baseline run in {path}", hint="pass the --out folder of the baseline's eval run"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        found = data["metrics"]
        run = data.get("run") or {}
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"{file} is not an eval run's summary.json: {exc}") from None
    warnings = []
    if run.get("pipeline") != NAIVE_FLOOR:
        recorded = run.get("pipeline") or "not recorded"
        warnings.append(f"baseline run's pipeline is {recorded}, not {NAIVE_FLOOR}")
    if suite is not None and run.get("suite") not in (None, suite.name):
        warnings.append(f"baseline run is of suite {run.get('suite')!r}, not {suite.name!r}")
    cases = (found.get("qa") or {}).get("cases")
    if suite is not None and cases not in (None, len(suite.qa_cases)):
        warnings.append(f"baseline run has {cases} QA cases, this suite {len(suite.qa_cases)}")
    return floor_entry(
        NAIVE_FLOOR,
        run=str(file.parent),
        started=run.get("started"),
        measured=found,
        warnings=warnings,
    )
