"""The Library as the page shows it: article labels, table rows and outlets, the store's
counts, ingest reports and the About table (credential-like settings left out).

Example:
    >>> outlet_choices([{"outlet": "B"}, {"outlet": "A"}])
    ['A', 'B']
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rag.ui.format.markdown import escape_md, field_of

__all__ = [
    "ARTICLE_COLUMNS",
    "article_label",
    "article_rows",
    "format_counts",
    "format_describe",
    "format_report",
    "outlet_choices",
]

_SECRET_WORDS = ("key", "secret", "password", "auth", "credential")


def article_label(info: object) -> str:
    """Plain-text label of an article for a searchable list: ``Title — Outlet, date``.

    Example:
        >>> article_label({"title": "Rate cut", "outlet": "Ledger", "published": "2025-03-01"})
        'Rate cut — Ledger, 2025-03-01'
    """
    title = " ".join(str(field_of(info, "title") or "Untitled").split())
    extra = ", ".join(str(v) for v in (field_of(info, "outlet"), field_of(info, "published")) if v)
    return f"{title} — {extra}" if extra else title


ARTICLE_COLUMNS = ["Title", "Outlet", "Author", "Date", "Chunks", "ID"]


def article_rows(infos: Iterable[object], recent: Sequence[str] = ()) -> list[list[Any]]:
    """Rows of the Library table (columns :data:`ARTICLE_COLUMNS`); values are plain text.

    Articles whose id is in ``recent`` (just added) come first, in that order.

    Example:
        >>> article_rows([{"title": "T", "outlet": None, "published": None, "chunks": 3,
        ...                "id": "abc"}])
        [['T', '', '', '', 3, 'abc']]
    """
    rows = [
        [
            str(field_of(info, "title") or "Untitled"),
            str(field_of(info, "outlet") or ""),
            str(field_of(info, "author") or ""),
            str(field_of(info, "published") or ""),
            int(field_of(info, "chunks") or 0),
            str(field_of(info, "id")),
        ]
        for info in infos
    ]
    first = {article_id: index for index, article_id in enumerate(recent)}
    return sorted(rows, key=lambda row: first.get(row[-1], len(first)))


def outlet_choices(infos: Iterable[object]) -> list[str]:
    """Distinct outlets of the articles, sorted.

    Example:
        >>> outlet_choices([{"outlet": "B"}, {"outlet": "A"}, {"outlet": None}, {"outlet": "B"}])
        ['A', 'B']
    """
    return sorted({str(s) for s in (field_of(info, "outlet") for info in infos) if s})


def format_counts(stats: object) -> str:
    """``**3 articles · 41 chunks**`` plus where the store lives.

    Example:
        >>> format_counts({"articles": 1, "chunks": 2, "mode": "embedded", "location": "d"})
        '**1 article · 2 chunks** in the embedded store at `d`'
    """
    articles = int(field_of(stats, "articles", 0) or 0)
    chunks = int(field_of(stats, "chunks", 0) or 0)
    text = f"**{articles} article{'s' if articles != 1 else ''} · {chunks} chunks**"
    location = str(field_of(stats, "location") or "").replace("`", "'")
    mode = escape_md(field_of(stats, "mode") or "")
    if location:
        text += f" in the {mode} store at `{location}`" if mode else f" in `{location}`"
    return text


def _origin_label(origin: object, typed: Collection[str] = ()) -> str:
    """A file's name (uploads live in temporary folders); a URL or typed line as given."""
    text = str(origin)
    if "://" in text or text in typed:
        return text
    return Path(text).name or text


def format_report(
    report: object, titles: Sequence[str] = (), typed: Collection[str] = ()
) -> tuple[str, list[str]]:
    """A short ingest report naming the ``titles`` stored, and the readable failure lines.

    ``typed`` are lines typed by the user (shown as typed, not shortened to a file name).

    Example:
        >>> md, failures = format_report({"added": 2, "unchanged": 1, "replaced": 0,
        ...     "failed": [("/tmp/x/a.pdf", "unsupported type"), ("/etc/passwd", "not a URL")],
        ...     "chunks_added": 9, "seconds": 1.25}, ["One", "Two"], typed={"/etc/passwd"})
        >>> md.splitlines()[0]
        'Added **2** · replaced 0 · unchanged 1 · failed 2 · 9 new chunks in 1.2 s'
        >>> failures
        ['a.pdf: unsupported type', '/etc/passwd: not a URL']
    """
    failed = list(field_of(report, "failed") or [])
    failures = [f"{_origin_label(origin, typed)}: {reason}" for origin, reason in failed]
    seconds = float(field_of(report, "seconds", 0.0) or 0.0)
    text = (
        f"Added **{field_of(report, 'added', 0)}** · replaced {field_of(report, 'replaced', 0)} · "
        f"unchanged {field_of(report, 'unchanged', 0)} · failed {len(failed)} · "
        f"{field_of(report, 'chunks_added', 0)} new chunks in {seconds:.1f} s"
    )
    if titles:
        text += "\n\n" + "\n".join(f"- **Stored:** {escape_md(t)}" for t in titles)
    if failures:
        text += "\n\n" + "\n".join(f"- **Failed:** {escape_md(line)}" for line in failures)
    return text, failures


def _flatten(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if any(word in str(key).lower() for word in _SECRET_WORDS):
            continue  # never show anything that looks like a credential
        if isinstance(value, Mapping):
            rows.extend(_flatten(value, prefix=f"{name}."))
        else:
            rows.append((name, value))
    return rows


def format_describe(info: Mapping[str, Any], stats: object | None = None) -> str:
    """The About/Status table from ``NewsRAG.describe()`` (credential-like keys are dropped).

    Example:
        >>> print(format_describe({"version": "0.1.0", "llm": {"model": "m", "api_key": "x"}}))
        | Setting | Value |
        |---|---|
        | version | 0\\.1\\.0 |
        | llm\\.model | m |
    """
    lines = ["| Setting | Value |", "|---|---|"]
    for name, value in _flatten(info):
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
        lines.append(f"| {escape_md(name)} | {escape_md(shown)} |")
    if stats is not None:
        lines.append(f"| articles | {int(field_of(stats, 'articles', 0) or 0)} |")
        lines.append(f"| chunks | {int(field_of(stats, 'chunks', 0) or 0)} |")
    return "\n".join(lines)
