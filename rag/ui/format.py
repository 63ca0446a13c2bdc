"""Turn answers, sources, summaries and library reports into safe Markdown for the app.

Everything that comes from an article or from the model (titles, passages, answers) is
escaped: HTML special characters become entities and Markdown punctuation is
backslash-escaped, so a story containing ``<script>`` or ``[link](javascript:...)`` is
displayed as those characters, never interpreted. Links are only made for ``http(s)`` URLs.

Example:
    >>> escape_md("<b>1.5%</b> *rise*")
    '&lt;b&gt;1\\\\.5%&lt;/b&gt; \\\\*rise\\\\*'
    >>> safe_url("javascript:alert(1)") is None
    True
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

# Every ASCII punctuation character that Markdown (CommonMark/GFM) or the app's renderer
# gives a meaning to. '&', '<' and '>' are handled by html.escape first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECRET_WORDS = ("key", "secret", "password", "auth", "credential")
PASSAGE_CHARS = 700
ABSTAIN_TITLE = "The articles don't say"

__all__ = [
    "ABSTAIN_TITLE",
    "answer_to_dict",
    "article_label",
    "article_rows",
    "escape_block",
    "escape_md",
    "format_answer",
    "format_counts",
    "format_describe",
    "format_digest",
    "format_partial",
    "format_report",
    "format_sources",
    "format_summary",
    "parse_day",
    "parse_range",
    "safe_url",
    "source_choices",
    "to_jsonable",
]


def escape_md(text: object) -> str:
    """Escape ``text`` so Markdown renders it literally (no HTML, links, emphasis or lists).

    Example:
        >>> escape_md("<script>alert(1)</script>")
        '&lt;script&gt;alert\\\\(1\\\\)&lt;/script&gt;'
    """
    escaped = html.escape("" if text is None else str(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


_LIST_ITEM = re.compile(r"^\s*(?:[-*•+]|(\d{1,2})[.)])\s+(.*)$")


def escape_block(text: object) -> str:
    """Like :func:`escape_md`, line by line, but keeps bullet and numbered lists as lists.

    Example:
        >>> print(escape_block("Points:\\n- one <b>\\n2. two"))
        Points:
        - one &lt;b&gt;
        2\\. two
    """
    lines = []
    for line in str(text or "").splitlines():
        match = _LIST_ITEM.match(line)
        if match and match.group(1):
            lines.append(f"{match.group(1)}\\. {escape_md(match.group(2))}")
        elif match:
            lines.append(f"- {escape_md(match.group(2))}")
        else:
            lines.append(escape_md(line))
    return "\n".join(lines)


def safe_url(url: object) -> str | None:
    """``url`` if it is an absolute ``http``/``https`` URL (quoted for a Markdown link), else None.

    Example:
        >>> safe_url("https://example.org/a b")
        'https://example.org/a%20b'
        >>> safe_url("data:text/html,hi") is None
        True
    """
    if not isinstance(url, str) or not url.strip():
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    # Keep the URL readable but make sure it cannot close the Markdown link or break out.
    return quote(url, safe=":/?#@!$&*+,;=%~[]'")


def _link(label_md: str, url: object) -> str:
    """A Markdown link if ``url`` is safe, else just the (already escaped) label."""
    href = safe_url(url)
    return f"[{label_md}]({href})" if href else label_md


def _field(obj: object, name: str, default: Any = None) -> Any:
    """Attribute or mapping key ``name`` of ``obj`` (answers may arrive as dicts from the API)."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _meta_line(source: object, published: object, url: object) -> str:
    """``Outlet · 2025-02-14 · link`` with the missing parts left out."""
    parts = [escape_md(value) for value in (source, published) if value]
    href = safe_url(url)
    if href:
        parts.append(f"[link]({href})")
    return " · ".join(parts)


def _quote_block(text: str, limit: int = PASSAGE_CHARS) -> str:
    """An escaped Markdown blockquote of ``text``, shortened to about ``limit`` characters."""
    text = " ".join(str(text or "").split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return "> " + escape_md(text) if text else ""


def format_sources(citations: Sequence[object]) -> str:
    """The numbered sources of an answer: title, outlet, date, link and the cited passage.

    Example:
        >>> print(format_sources([{"number": 1, "title": "T", "source": "S",
        ...     "published": "2025-02-14", "url": "", "text": "p"}]))
        **\\[1\\] T**
        S · 2025\\-02\\-14
        <BLANKLINE>
        > p
    """
    blocks = []
    for citation in citations:
        number = _field(citation, "number", "")
        title = escape_md(_field(citation, "title") or "Untitled")
        head = f"**\\[{number}\\] {title}**"
        meta = _meta_line(
            _field(citation, "source"), _field(citation, "published"), _field(citation, "url")
        )
        passage = _quote_block(_field(citation, "text") or "")
        blocks.append("\n".join(part for part in (head, meta) if part) + f"\n\n{passage}")
    return "\n\n".join(blocks)


def is_abstention(answer: object) -> bool:
    """True when the answer says the articles do not contain the answer."""
    return bool(_field(answer, "abstained", False))


def format_partial(text: str) -> str:
    """A partially streamed answer, escaped, with a cursor.

    Example:
        >>> format_partial("NATO [1")
        'NATO \\\\[1 ▌'
    """
    return escape_md(text) + " ▌"


def format_answer(answer: object) -> str:
    """The answer text as safe Markdown; abstentions get a distinct, explicit display.

    Example:
        >>> format_answer({"answer": "No.", "abstained": True}).splitlines()[0]
        "> **The articles don't say.**"
    """
    text = str(_field(answer, "answer", "") or "").strip()
    if is_abstention(answer):
        lines = [f"> **{ABSTAIN_TITLE}.**", ">"]
        lines.extend(f"> {escape_md(line)}" if line else ">" for line in text.splitlines())
        lines.append(">")
        lines.append(
            "> *Try rephrasing, widening the filters, or adding articles in the Library tab.*"
        )
        return "\n".join(lines)
    body = _MARKER.sub(r"**\\[\1\\]**", escape_block(text))
    flags = [str(_field(flag, "message") or flag) for flag in (_field(answer, "flags") or [])]
    if flags:
        body += "\n\n*Note: " + escape_md(", ".join(flags)) + "*"
    return body


def format_summary(summary: object, article: object | None = None) -> str:
    """A finished summary with a header naming the article.

    Example:
        >>> print(format_summary({"text": "Short."}, {"title": "T", "source": "S"}))
        ### T
        S
        <BLANKLINE>
        Short\\.
    """
    text = _field(summary, "text") or _field(summary, "summary") or ""
    body = escape_block(str(text).strip())
    body += _notes(_field(summary, "issues") or [])
    if article is None:
        return body
    return format_article_header(article) + "\n\n" + body


def _notes(issues: Sequence[object]) -> str:
    """A short italic warning listing faithfulness issues (empty if none)."""
    if not issues:
        return ""
    return "\n\n*Check against the article: " + escape_md("; ".join(map(str, issues))) + "*"


def format_article_header(article: object) -> str:
    """``### Title`` plus an outlet/date/link line."""
    title = escape_md(_field(article, "title") or "Untitled")
    meta = _meta_line(
        _field(article, "source"), _field(article, "published"), _field(article, "url")
    )
    return f"### {title}" + (f"\n{meta}" if meta else "")


def format_digest(text: str, articles: Sequence[object], digest_issues: Sequence[str] = ()) -> str:
    """A digest with its ``[n]`` markers linked to the articles, followed by the numbered list.

    Each article's ``n`` field (else its position, from 1) is the marker that points to it.

    Example:
        >>> print(format_digest("Rates fell [1].", [{"title": "Cut", "url": "https://x.org"}]))
        Rates fell [\\[1\\]](https://x.org)\\.
        <BLANKLINE>
        **Articles**
        <BLANKLINE>
        1\\. [Cut](https://x.org)
    """
    numbered = [(int(_field(a, "n", i) or i), a) for i, a in enumerate(articles, start=1)]
    urls = {number: _field(article, "url") for number, article in numbered}

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        href = safe_url(urls.get(number))
        return f"[\\[{number}\\]]({href})" if href else f"**\\[{number}\\]**"

    body = _MARKER.sub(link, escape_block(str(text).strip()))
    if not articles:
        return body
    lines = []
    for number, article in numbered:
        title = _link(escape_md(_field(article, "title") or "Untitled"), _field(article, "url"))
        meta = _meta_line(_field(article, "source"), _field(article, "published"), None)
        lines.append(f"{number}\\. {title}" + (f" — {meta}" if meta else ""))
    return body + "\n\n**Articles**\n\n" + "\n".join(lines) + _notes(digest_issues)


def parse_day(text: str | None, label: str) -> date | None:
    """A ``YYYY-MM-DD`` date from a text box, None if empty; ValueError naming ``label`` if bad.

    Example:
        >>> parse_day(" 2025-02-14 ", "Since")
        datetime.date(2025, 2, 14)
        >>> parse_day("", "Since") is None
        True
    """
    value = (text or "").strip()
    if not value:
        return None
    if _DAY.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{label}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2025-02-14")


def parse_range(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    """Both ends of a date range, checked to be in order.

    Example:
        >>> parse_range("2025-02-01", "")
        (datetime.date(2025, 2, 1), None)
    """
    start, end = parse_day(since, "Since"), parse_day(until, "Until")
    if start and end and start > end:
        raise ValueError(f"Since ({start}) is after Until ({end})")
    return start, end


def article_label(info: object) -> str:
    """Plain-text label of an article for a searchable list: ``Title — Outlet, date``.

    Example:
        >>> article_label({"title": "Rate cut", "source": "Ledger", "published": "2025-03-01"})
        'Rate cut — Ledger, 2025-03-01'
    """
    title = " ".join(str(_field(info, "title") or "Untitled").split())
    extra = ", ".join(str(v) for v in (_field(info, "source"), _field(info, "published")) if v)
    return f"{title} — {extra}" if extra else title


ARTICLE_COLUMNS = ["Title", "Outlet", "Date", "Chunks", "ID"]


def article_rows(infos: Iterable[object]) -> list[list[Any]]:
    """Rows of the Library table (columns :data:`ARTICLE_COLUMNS`); values are plain text.

    Example:
        >>> article_rows([{"title": "T", "source": None, "published": None, "chunks": 3,
        ...                "id": "abc"}])
        [['T', '', '', 3, 'abc']]
    """
    return [
        [
            str(_field(info, "title") or "Untitled"),
            str(_field(info, "source") or ""),
            str(_field(info, "published") or ""),
            int(_field(info, "chunks") or 0),
            str(_field(info, "id")),
        ]
        for info in infos
    ]


def source_choices(infos: Iterable[object]) -> list[str]:
    """Distinct outlets of the articles, sorted.

    Example:
        >>> source_choices([{"source": "B"}, {"source": "A"}, {"source": None}, {"source": "B"}])
        ['A', 'B']
    """
    return sorted({str(s) for s in (_field(info, "source") for info in infos) if s})


def format_counts(stats: object) -> str:
    """``**3 articles · 41 chunks**`` plus where the store lives.

    Example:
        >>> format_counts({"articles": 1, "chunks": 2, "mode": "embedded", "location": "d"})
        '**1 article · 2 chunks** in the embedded store at `d`'
    """
    articles = int(_field(stats, "articles", 0) or 0)
    chunks = int(_field(stats, "chunks", 0) or 0)
    text = f"**{articles} article{'s' if articles != 1 else ''} · {chunks} chunks**"
    location = str(_field(stats, "location") or "").replace("`", "'")
    mode = escape_md(_field(stats, "mode") or "")
    if location:
        text += f" in the {mode} store at `{location}`" if mode else f" in `{location}`"
    return text


def _origin_label(origin: object) -> str:
    """A file's name (uploads live in temporary folders) or the URL as given."""
    text = str(origin)
    if "://" in text:
        return text
    return Path(text).name or text


def format_report(report: object) -> tuple[str, list[str]]:
    """A one-paragraph ingest report and the list of readable failure lines.

    Example:
        >>> md, failures = format_report({"added": 2, "unchanged": 1, "replaced": 0,
        ...     "failed": [("/tmp/x/a.pdf", "unsupported type")], "chunks_added": 9,
        ...     "seconds": 1.25})
        >>> md.splitlines()[0]
        'Added **2** · replaced 0 · unchanged 1 · failed 1 · 9 new chunks in 1.2 s'
        >>> failures
        ['a.pdf: unsupported type']
    """
    failed = list(_field(report, "failed") or [])
    failures = [f"{_origin_label(origin)}: {reason}" for origin, reason in failed]
    seconds = float(_field(report, "seconds", 0.0) or 0.0)
    text = (
        f"Added **{_field(report, 'added', 0)}** · replaced {_field(report, 'replaced', 0)} · "
        f"unchanged {_field(report, 'unchanged', 0)} · failed {len(failed)} · "
        f"{_field(report, 'chunks_added', 0)} new chunks in {seconds:.1f} s"
    )
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
        lines.append(f"| articles | {int(_field(stats, 'articles', 0) or 0)} |")
        lines.append(f"| chunks | {int(_field(stats, 'chunks', 0) or 0)} |")
    return "\n".join(lines)


def to_jsonable(value: Any) -> Any:
    """Pydantic models, dataclasses, dates and paths as plain JSON values (for API endpoints).

    Example:
        >>> to_jsonable({"day": date(2025, 2, 14), "path": Path("a")})
        {'day': '2025-02-14', 'path': 'a'}
    """
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, date | Path):
        return value.isoformat() if isinstance(value, date) else str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def answer_to_dict(answer: object) -> dict[str, Any]:
    """An ``Answer`` as the JSON the ``/ask`` endpoint returns.

    ``citations`` are the sources the answer cites (``[n]`` = ``number``); ``sources`` are all
    the passages the model was given.

    Example:
        >>> answer_to_dict({"answer": "No.", "citations": [], "abstained": True})["abstained"]
        True
    """
    names = ("number", "article_id", "title", "source", "url", "published", "text")

    def passages(field: str) -> list[dict[str, Any]]:
        return [{name: _field(c, name) for name in names} for c in (_field(answer, field) or [])]

    return to_jsonable(
        {
            "answer": _field(answer, "answer", ""),
            "citations": passages("citations"),
            "sources": passages("sources"),
            "abstained": bool(_field(answer, "abstained", False)),
            "flags": list(_field(answer, "flags") or []),
            "standalone_question": _field(answer, "standalone_question"),
        }
    )
