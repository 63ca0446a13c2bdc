"""Pass thresholds: parsed from a suite file, checked against a run's metrics.

A threshold bounds one metric path (``qa.hit_at_k``): with fixed bounds (``min``,
``max``) or against a floor, another metric path (``min_over``, ``max_under``, with an
optional ``margin``). A suite passes when every threshold holds.

Example:
    >>> bounds = parse_thresholds({"qa.f1": 0.5}, "suite.yaml")
    >>> bounds
    {'qa.f1': [{'min': 0.5}]}
    >>> [row["passed"] for row in check_thresholds({"qa": {"f1": 0.6}}, bounds)]
    [True]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from rag.errors import ConfigError

__all__ = ["THRESHOLD_KEYS", "THRESHOLD_TOLERANCE", "check_thresholds", "parse_thresholds"]


THRESHOLD_KEYS = frozenset({"min", "max", "min_over", "max_under", "margin"})
THRESHOLD_TOLERANCE = 1e-9  # floor ± margin is float arithmetic: 1.0 - 0.85 != 0.15


def parse_thresholds(raw: Mapping[str, Any] | None, where: str) -> dict[str, list[dict[str, Any]]]:
    """Each metric's bounds, as a list (a list in the suite file states several).

    ``where`` names the suite file in error messages.

    Example:
        >>> parse_thresholds({"qa.f1": [0.4, {"min_over": "floors.naive.qa.f1", "margin": 0.1}]},
        ...                  "suite.yaml")
        {'qa.f1': [{'min': 0.4}, {'margin': 0.1, 'min_over': 'floors.naive.qa.f1'}]}
        >>> parse_thresholds({"qa.f1": {"margin": 0.1}}, "suite.yaml")
        Traceback (most recent call last):
        ...
        rag.errors.ConfigError: suite.yaml: threshold 'qa.f1': margin needs min_over or max_under
    """
    parsed: dict[str, list[dict[str, Any]]] = {}
    for name, spec in (raw or {}).items():
        specs = spec if isinstance(spec, list) else [spec]
        if not specs:
            raise ConfigError(f"{where}: threshold {name!r} is an empty list")
        parsed[str(name)] = [_parse_threshold(str(name), one, where) for one in specs]
    return parsed


def _parse_threshold(name: str, spec: Any, where: str) -> dict[str, Any]:
    """One threshold: ``n`` (a minimum), or a mapping of fixed and floor-relative bounds.

    Keys: ``min``/``max`` (fixed), ``min_over``/``max_under`` (a metric path: the floor)
    with an optional ``margin``; at most one bound per side and one floor.
    """
    usage = (
        f"{where}: threshold {name!r} must be a number or a mapping of min, max, "
        "min_over, max_under (a metric path) and margin"
    )

    def number(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(usage)
        return float(value)

    if not isinstance(spec, Mapping):
        return {"min": number(spec)}
    if not spec or set(spec) - THRESHOLD_KEYS:
        raise ConfigError(usage)
    bound: dict[str, Any] = {k: number(spec[k]) for k in ("min", "max", "margin") if k in spec}
    for key in ("min_over", "max_under"):
        if key in spec:
            if not isinstance(spec[key], str) or not spec[key].strip():
                raise ConfigError(f"{where}: threshold {name!r}: {key} must be a metric path")
            bound[key] = spec[key].strip()
    clashes = (("min", "min_over"), ("max", "max_under"), ("min_over", "max_under"))
    for first, second in clashes:
        if first in bound and second in bound:
            raise ConfigError(f"{where}: threshold {name!r} has both {first} and {second}")
    if "margin" in bound and not ({"min_over", "max_under"} & set(bound)):
        raise ConfigError(f"{where}: threshold {name!r}: margin needs min_over or max_under")
    if not ({"min", "max", "min_over", "max_under"} & set(bound)):
        raise ConfigError(usage)
    return bound


def _lookup(summary: Mapping[str, Any], dotted: str) -> Any:
    node: Any = summary
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)


def check_thresholds(
    summary: Mapping[str, Any],
    thresholds: Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]],
) -> list[dict[str, Any]]:
    """One row per threshold: metric, bounds, the floor it is stated against, value, passed.

    ``thresholds`` maps a metric path to one bound or a list of bounds (each a row).
    A fixed bound is ``min``/``max``. A floor-relative bound names another metric path:
    ``min_over: P`` needs ``value >= P + margin`` and ``max_under: P`` needs
    ``value <= P - margin``; the row then carries ``floor`` (P's value) and the computed
    ``min`` or ``max``. A metric or a floor that was not measured fails (a suite must not
    pass by measuring nothing).

    Example:
        >>> rows = check_thresholds({"qa": {"hit_at_k": 0.5}}, {"qa.hit_at_k": {"min": 0.8}})
        >>> rows[0]["passed"]
        False
        >>> metrics_ = {"qa": {"refusal_rate": 0.5}, "floors": {"never": {"refusal_rate": 0.0}}}
        >>> row = check_thresholds(metrics_, {"qa.refusal_rate": {
        ...     "min_over": "floors.never.refusal_rate", "margin": 0.3}})[0]
        >>> row["floor"], row["min"], row["passed"]
        (0.0, 0.3, True)
    """
    rows = []
    for name, specs in thresholds.items():
        for spec in [specs] if isinstance(specs, Mapping) else specs:
            rows.append(_check_threshold(summary, name, spec))
    return rows


def _check_threshold(
    summary: Mapping[str, Any], name: str, spec: Mapping[str, Any]
) -> dict[str, Any]:
    """One row: the spec, the floor's value and the bound it gives, the value, passed."""
    row: dict[str, Any] = {"metric": name, **spec}
    floor_path = spec.get("min_over") or spec.get("max_under")
    if floor_path:
        floor = _lookup(summary, floor_path)
        margin = float(spec.get("margin", 0.0))
        row["floor"] = floor if _number(floor) else None
        row["margin"] = margin
        side = "min" if "min_over" in spec else "max"
        if row["floor"] is None:
            row[side] = None
        else:
            bound = row["floor"] + margin if side == "min" else row["floor"] - margin
            row[side] = round(bound, 12)  # 1.0 - 0.85 reads 0.15, not 0.15000000000000002
    value = _lookup(summary, name)
    ok = _number(value)
    if ok and "min" in row:
        ok = row["min"] is not None and value >= row["min"] - THRESHOLD_TOLERANCE
    if ok and "max" in row:
        ok = row["max"] is not None and value <= row["max"] + THRESHOLD_TOLERANCE
    return {**row, "value": value, "passed": bool(ok)}
