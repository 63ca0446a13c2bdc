"""What an eval run produced (:class:`EvalOutcome`): the runner builds it, the writers of
``results.jsonl``, ``summary.json``, the charts and the reports read it.

Example:
    >>> from pathlib import Path
    >>> suite = Suite(name="s", path=Path("s.yaml"), corpus=[], qa_cases=[], summary_cases=[])
    >>> outcome = EvalOutcome(suite, Path("out"), results=[], summary={},
    ...                       thresholds=[{"metric": "qa.f1", "passed": False}])
    >>> outcome.passed, [row["metric"] for row in outcome.failures]
    (False, ['qa.f1'])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.evaluation.compare import Comparison
from rag.evaluation.suite import Suite

__all__ = ["EvalOutcome"]


@dataclass
class EvalOutcome:
    """What a run produced: rows, aggregates, threshold checks and output paths.

    Example (runs the models):
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
