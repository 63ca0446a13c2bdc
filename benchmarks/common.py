"""Helpers shared by the benchmark scripts: percentiles, the results files.

Example:
    >>> percentile([1.0, 2.0, 3.0, 4.0], 50)
    2.0
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile.

    Example:
        >>> percentile([5.0, 1.0, 3.0], 95)
        5.0
    """
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Record the load after the run and write ``results`` as JSON to ``path``.

    Example:
        >>> import tempfile
        >>> path = Path(tempfile.mkdtemp()) / "bench_x.json"
        >>> write_results(path, {"seconds": 1.5})  # doctest: +ELLIPSIS
        wrote .../bench_x.json
        >>> sorted(json.loads(path.read_text())["machine"])
        ['load_after']
    """
    results.setdefault("machine", {})["load_after"] = os.getloadavg()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
