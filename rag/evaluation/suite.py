"""The suite model: a suite YAML file and its JSON Lines datasets, parsed and validated.

A suite names a corpus, QA and summary datasets, settings overrides and pass thresholds
(see ``evals/README.md``); :func:`load_suite` reads one into a :class:`Suite` holding its
:class:`QACase` and :class:`SummaryCase` items. Paths in a suite are relative to its file.

Example:
    >>> case = QACase.from_dict({"id": "q1", "type": "single", "question": "Who won?",
    ...                          "answers": ["Ruiz"], "gold_articles": ["https://a.example/x"]})
    >>> case.type, case.answerable, case.gold_articles
    ('single', True, ['https://a.example/x'])
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.evaluation import metrics
from rag.evaluation.thresholds import parse_thresholds
from rag.files import read_yaml_mapping

__all__ = ["QA_TYPES", "QACase", "Suite", "SummaryCase", "load_suite"]


QA_TYPES = ("single", "multi", "followup", "unanswerable", "date")


@dataclass
class QACase:
    """One question with its expectations (a line of a QA dataset).

    Example:
        >>> QACase(id="q1", type="single", question="Who won?", answers=["Ruiz"]).answerable
        True
    """

    id: str
    type: str
    question: str
    history: list[tuple[str, str]] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    must_include: list[metrics.Alternatives] = field(default_factory=list)
    gold_articles: list[metrics.Alternatives] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    answerable: bool = True
    notes: str = ""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "") -> QACase:
        """Validate one dataset line.

        Example:
            >>> QACase.from_dict({"id": "u1", "type": "unanswerable", "question": "?"}).answerable
            False
        """
        _require(data, ("id", "type", "question"), where)
        kind = str(data["type"])
        if kind not in QA_TYPES:
            raise ConfigError(f"{where}: type {kind!r} is not one of {', '.join(QA_TYPES)}")
        evidence = data.get("evidence") or []
        history = [tuple(turn) for turn in data.get("history") or []]
        if any(len(turn) != 2 for turn in history):
            raise ConfigError(f"{where}: history must be a list of [user, assistant] pairs")
        answerable = bool(data.get("answerable", kind != "unanswerable"))
        case = cls(
            id=str(data["id"]),
            type=kind,
            question=str(data["question"]),
            history=[(str(u), str(a)) for u, a in history],
            answers=[str(a) for a in data.get("answers") or []],
            must_include=list(data.get("must_include") or []),
            gold_articles=list(data.get("gold_articles") or []),
            evidence=[evidence] if isinstance(evidence, str) else [str(e) for e in evidence],
            answerable=answerable,
            notes=str(data.get("notes") or ""),
        )
        if case.answerable and not case.gold_articles:
            raise ConfigError(f"{where}: answerable case {case.id!r} needs gold_articles")
        return case


@dataclass
class SummaryCase:
    """One article to summarize with its key facts, reference and forbidden claims.

    Example:
        >>> SummaryCase.from_dict({"id": "s1", "article": "https://x.example/a",
        ...     "key_facts": [{"fact": "f", "keywords": ["k"]}]}).style
        'brief'
    """

    id: str
    article: str
    key_facts: list[dict[str, Any]]
    style: str = "brief"
    reference: str | None = None
    forbidden: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, where: str = "", default_style: str = "brief"
    ) -> SummaryCase:
        """Validate one dataset line."""
        _require(data, ("id", "article", "key_facts"), where)
        facts = list(data["key_facts"])
        if any(not isinstance(f, Mapping) or not f.get("keywords") for f in facts):
            raise ConfigError(f"{where}: every key fact needs 'keywords'")
        forbidden = list(data.get("forbidden") or [])
        for claim in forbidden:
            if not isinstance(claim, Mapping) or not (
                claim.get("keywords") or claim.get("pattern")
            ):
                raise ConfigError(f"{where}: a forbidden claim needs 'keywords' or 'pattern'")
            if claim.get("pattern"):
                try:
                    re.compile(str(claim["pattern"]))
                except re.error as exc:
                    raise ConfigError(f"{where}: invalid pattern: {exc}") from None
        return cls(
            id=str(data["id"]),
            article=str(data["article"]),
            key_facts=[dict(f) for f in facts],
            style=str(data.get("style") or default_style),
            reference=data.get("reference") or None,
            forbidden=[dict(c) for c in forbidden],
        )


@dataclass
class Suite:
    """A parsed suite file: corpus, datasets, settings overrides and thresholds.

    Example:
        >>> suite = load_suite("evals/smoke.yaml")
        >>> suite.name, len(suite.qa_cases)
        ('smoke', 11)
    """

    name: str
    path: Path
    corpus: list[Path]
    qa_cases: list[QACase]
    summary_cases: list[SummaryCase]
    description: str = ""
    collection: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    summary_refresh: bool = True


def _require(data: Mapping[str, Any], keys: Iterable[str], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a JSON object")
    missing = [k for k in keys if not data.get(k)]
    if missing:
        raise ConfigError(f"{where}: missing field(s): {', '.join(missing)}")


def _read_jsonl(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.is_file():
        raise ConfigError(f"dataset not found: {path}", hint="paths are relative to the suite")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        try:
            rows.append((f"{path.name}:{number}", json.loads(line)))
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path.name}:{number}: invalid JSON: {exc.msg}") from None
    return rows


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite YAML file and its datasets.

    Example:
        >>> load_suite("evals/smoke.yaml").collection
        'eval-smoke'
    """
    path = Path(path)
    hint = "try: news-rag eval evals/smoke.yaml"
    data = read_yaml_mapping(path, "suite file", ConfigError, hint=hint)
    base = path.parent
    name = str(data.get("name") or path.stem)
    corpus = [Path(os.path.normpath(base / str(p))) for p in _as_list(data.get("corpus"))]
    if not corpus:
        raise ConfigError(f"suite {path}: 'corpus' must name at least one file or folder")
    for item in corpus:
        if not item.exists():
            raise ConfigError(f"suite {path}: corpus path not found: {item}")
    datasets = data.get("datasets") or {}
    summaries_cfg = data.get("summaries") or {}
    style = str(summaries_cfg.get("style") or "brief")
    qa_cases = [
        QACase.from_dict(row, where=where)
        for file in _as_list(datasets.get("qa"))
        for where, row in _read_jsonl(base / str(file))
    ]
    summary_cases = [
        SummaryCase.from_dict(row, where=where, default_style=style)
        for file in _as_list(datasets.get("summaries"))
        for where, row in _read_jsonl(base / str(file))
    ]
    ids = [c.id for c in qa_cases] + [c.id for c in summary_cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ConfigError(f"suite {path}: duplicate case ids: {', '.join(duplicates)}")
    if not ids:
        raise ConfigError(f"suite {path}: no cases (check 'datasets')")
    _check_setting_names(data.get("settings") or {}, path)
    return Suite(
        name=name,
        path=path,
        corpus=corpus,
        qa_cases=qa_cases,
        summary_cases=summary_cases,
        description=str(data.get("description") or ""),
        collection=str(data.get("collection") or f"eval-{name}"),
        settings=dict(data.get("settings") or {}),
        thresholds=parse_thresholds(data.get("thresholds"), str(path)),
        summary_refresh=bool(summaries_cfg.get("refresh", True)),
    )


def _check_setting_names(values: Mapping[str, Any], path: Path) -> None:
    from rag.settings import Settings

    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(
            f"suite {path}: unknown setting(s): {', '.join(unknown)}",
            hint="use the field names of rag.settings.Settings (RAG_<NAME> in lower case)",
        )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]
