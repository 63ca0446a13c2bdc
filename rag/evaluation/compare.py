"""Comparison with an earlier run: metric deltas and the cases whose score moved.

Example:
    >>> comparison = Comparison(old_dir="before", cases=[
    ...     {"id": "q1", "kind": "qa", "old": 1.0, "new": 0.5, "delta": -0.5},
    ...     {"id": "q2", "kind": "qa", "old": 0.5, "new": 0.52, "delta": 0.02}])
    >>> [c["id"] for c in comparison.regressions], comparison.improvements
    (['q1'], [])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError

__all__ = ["REGRESSION_DELTA", "Comparison", "compare_runs"]


REGRESSION_DELTA = 0.05


@dataclass
class Comparison:
    """The difference between an earlier run and this one.

    Example:
        >>> Comparison(old_dir="old").regressions
        []
    """

    old_dir: str
    metrics: list[dict[str, Any]] = field(default_factory=list)
    cases: list[dict[str, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[dict[str, Any]]:
        """Cases whose score dropped by more than ``REGRESSION_DELTA``."""
        return [c for c in self.cases if c["delta"] is not None and c["delta"] < -REGRESSION_DELTA]

    @property
    def improvements(self) -> list[dict[str, Any]]:
        """Cases whose score rose by more than ``REGRESSION_DELTA``."""
        return [c for c in self.cases if c["delta"] is not None and c["delta"] > REGRESSION_DELTA]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``summary.json``)."""
        return {
            "old_dir": self.old_dir,
            "metrics": self.metrics,
            "regressions": self.regressions,
            "improvements": self.improvements,
            "added": self.added,
            "removed": self.removed,
        }


def _flatten(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    flat: dict[str, float] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


def _short(row: Mapping[str, Any] | None) -> str:
    if not row:
        return ""
    return str(row.get("answer") if row.get("kind") == "qa" else row.get("summary") or "")


def compare_runs(
    old_dir: str | Path,
    results: Sequence[Mapping[str, Any]],
    summary: Mapping[str, Any],
) -> Comparison:
    """Compare this run with the one saved in ``old_dir``, metric by metric and case by case.

    Example (compares with the output folder of an earlier run):
        >>> comparison = compare_runs("eval-runs/before", results, summary)  # doctest: +SKIP
        >>> [c["id"] for c in comparison.regressions]  # doctest: +SKIP
    """
    old_dir = Path(old_dir)
    results_path, summary_path = old_dir / "results.jsonl", old_dir / "summary.json"
    if not results_path.is_file() or not summary_path.is_file():
        raise ConfigError(
            f"no earlier run in {old_dir}", hint="pass the --out folder of a previous eval run"
        )
    old_rows = {
        row["id"]: row
        for row in (json.loads(line) for line in results_path.read_text().splitlines() if line)
    }
    old_summary = json.loads(summary_path.read_text())
    comparison = Comparison(old_dir=str(old_dir))
    old_flat, new_flat = _flatten(old_summary.get("metrics", {})), _flatten(summary)
    for name in sorted(set(old_flat) | set(new_flat)):
        old, new = old_flat.get(name), new_flat.get(name)
        delta = new - old if old is not None and new is not None else None
        comparison.metrics.append({"metric": name, "old": old, "new": new, "delta": delta})
    new_ids = set()
    for row in results:
        new_ids.add(row["id"])
        old_row = old_rows.get(row["id"])
        if old_row is None:
            comparison.added.append(row["id"])
            continue
        old_score, new_score = old_row.get("score"), row.get("score")
        delta = new_score - old_score if None not in (old_score, new_score) else None
        comparison.cases.append(
            {
                "id": row["id"],
                "kind": row["kind"],
                "old": old_score,
                "new": new_score,
                "delta": delta,
                "old_output": _short(old_row),
                "new_output": _short(row),
            }
        )
    comparison.removed = sorted(set(old_rows) - new_ids)
    return comparison
