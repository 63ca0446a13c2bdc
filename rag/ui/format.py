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
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from rag.text import parse_day, parse_range, sentence_spans

# Every ASCII punctuation character that Markdown (CommonMark/GFM) or the app's renderer
# gives a meaning to. '&', '<' and '>' are handled by html.escape first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")
_RAW_MARKER = re.compile(r"\[(\d{1,3})\]")
_FRAGMENT_START = re.compile(r"^[a-z,;:)\]\-–—]")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
_SECRET_WORDS = ("key", "secret", "password", "auth", "credential")
PASSAGE_CHARS = 700
TOOLTIP_CHARS = 160
FLAG_NOTES = {
    "no_citation": "This answer cites no source: check it against the articles.",
    "unsupported_quote": "A quotation in this answer was not found word for word in its sources.",
    "suspicious_source": "A source contained text that looked like instructions; "
    "the model did not see that text.",
    "unsourced_link": "A link that was not in the sources was removed from the answer.",
}
"""Flag kinds a reader is told about, in plain words; the others are internal checks."""
ABSTAIN_TITLE = "The articles don't say"

__all__ = [
    "ABSTAIN_TITLE",
    "answer_notes",
    "answer_to_dict",
    "article_label",
    "article_rows",
    "cited_sources",
    "count_articles",
    "digest_markdown",
    "escape_block",
    "escape_md",
    "format_answer",
    "format_article_header",
    "format_counts",
    "format_describe",
    "format_digest",
    "format_found",
    "format_partial",
    "format_report",
    "format_sources",
    "format_summary",
    "link_markers",
    "parse_day",
    "parse_range",
    "passage_excerpt",
    "safe_url",
    "source_choices",
    "summary_header",
    "summary_markdown",
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


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", str(text).lower()).split())


def _whole_sentences(text: str) -> tuple[list[str], bool, bool]:
    """The sentences of ``text`` without a cut-off first or last one (and whether cut)."""
    text = " ".join(str(text or "").split())
    sentences = [text[a:b] for a, b in sentence_spans(text)] or ([text] if text else [])
    cut_start = cut_end = False
    if len(sentences) > 1 and _FRAGMENT_START.match(sentences[0]):
        sentences, cut_start = sentences[1:], True
    if len(sentences) > 1 and not _SENTENCE_END.search(sentences[-1]):
        sentences, cut_end = sentences[:-1], True
    return sentences, cut_start, cut_end


def passage_excerpt(text: str, quote: str = "", limit: int = PASSAGE_CHARS) -> str:
    """A passage as an escaped blockquote of whole sentences, the quoted ones in bold.

    A passage cut mid-sentence by chunking loses its fragments; a long one is shortened
    around the quoted sentences (``…`` marks what is left out).

    Example:
        >>> passage_excerpt("of the talks. Hegseth ruled out NATO. Kyiv was upset. The",
        ...                 quote="Hegseth ruled out NATO.")
        '> … **Hegseth ruled out NATO\\\\.** Kyiv was upset\\\\. …'
    """
    sentences, cut_start, cut_end = _whole_sentences(text)
    if not sentences:
        return ""
    wanted = _plain(quote)
    marked = [bool(wanted) and bool(_plain(s)) and _plain(s) in wanted for s in sentences]
    first = marked.index(True) if any(marked) else 0
    last = len(marked) - 1 - marked[::-1].index(True) if any(marked) else 0
    size = sum(len(s) + 1 for s in sentences[first : last + 1])
    after_next = True  # grow around the quoted sentences, alternately after and before
    while first > 0 or last < len(sentences) - 1:
        after = last < len(sentences) - 1 and (after_next or first == 0)
        extra = len(sentences[last + 1] if after else sentences[first - 1]) + 1
        if size + extra > limit:
            break
        size += extra
        first, last = (first, last + 1) if after else (first - 1, last)
        after_next = not after
    shown = [
        f"**{escape_md(s)}**" if mark else escape_md(s)
        for s, mark in zip(sentences[first : last + 1], marked[first : last + 1], strict=True)
    ]
    head = "… " if cut_start or first > 0 else ""
    tail = " …" if cut_end or last < len(sentences) - 1 else ""
    return "> " + head + " ".join(shown) + tail


def format_sources(citations: Sequence[object]) -> str:
    """The numbered sources of an answer: title, outlet, date, link and the passage, in whole
    sentences with the sentences the answer is taken from in bold.

    Example:
        >>> print(format_sources([{"number": 1, "title": "T", "source": "S",
        ...     "published": "2025-02-14", "url": "", "text": "p."}]))
        **\\[1\\] T**
        S · 2025\\-02\\-14
        <BLANKLINE>
        > p\\.
    """
    blocks = []
    for citation in citations:
        number = _field(citation, "number", "")
        title = escape_md(_field(citation, "title") or "Untitled")
        head = f"**\\[{number}\\] {title}**"
        meta = _meta_line(
            _field(citation, "source"), _field(citation, "published"), _field(citation, "url")
        )
        passage = passage_excerpt(_field(citation, "text") or "", _field(citation, "quote") or "")
        blocks.append("\n".join(part for part in (head, meta) if part) + f"\n\n{passage}")
    return "\n\n".join(blocks)


def format_found(sources: Sequence[object]) -> str:
    """The articles being read, one line each (title, outlet, date), before the answer.

    Example:
        >>> print(format_found([{"article_id": "a", "title": "T", "source": "S"},
        ...                     {"article_id": "a", "title": "T", "source": "S"}]))
        - T — S
    """
    lines, seen = [], set()
    for source in sources:
        key = _field(source, "article_id") or _field(source, "title")
        if key in seen:
            continue
        seen.add(key)
        title = escape_md(_field(source, "title") or "Untitled")
        meta = ", ".join(
            escape_md(v) for v in (_field(source, "source"), _field(source, "published")) if v
        )
        lines.append(f"- {title}" + (f" — {meta}" if meta else ""))
    return "\n".join(lines)


def count_articles(sources: Sequence[object]) -> int:
    """How many distinct articles the passages come from.

    Example:
        >>> count_articles([{"article_id": "a"}, {"article_id": "a"}, {"article_id": "b"}])
        2
    """
    return len({_field(s, "article_id") or _field(s, "title") for s in sources})


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


def _as_dict(item: object) -> dict[str, Any]:
    if hasattr(item, "model_dump"):
        return dict(item.model_dump())
    return dict(item) if isinstance(item, Mapping) else {"number": item}


def cited_sources(answer: object) -> tuple[str, list[dict[str, Any]]]:
    """The answer text with its ``[n]`` markers numbered 1, 2, 3... in order of first use,
    and its citations in that order with the new numbers (markers without a source go).

    Example:
        >>> text, cited = cited_sources({"answer": "A [3]. B [1][3]. C [7].", "citations": [
        ...     {"number": 1, "title": "One"}, {"number": 3, "title": "Three"}]})
        >>> text, [(c["number"], c["title"]) for c in cited]
        ('A [1]. B [2][1]. C.', [(1, 'Three'), (2, 'One')])
    """
    text = str(_field(answer, "answer", "") or "").strip()
    by_number = {}
    for citation in _field(answer, "citations") or []:
        number = _field(citation, "number")
        if isinstance(number, int) and number not in by_number:
            by_number[number] = citation
    order = [int(m.group(1)) for m in _RAW_MARKER.finditer(text)]
    order = list(dict.fromkeys(n for n in order if n in by_number))
    order += [n for n in by_number if n not in order]
    new = {old: index for index, old in enumerate(order, start=1)}

    def renumber(match: re.Match[str]) -> str:
        number = int(match.group(1))
        return f"[{new[number]}]" if number in new else ""

    text = re.sub(r"\s+([.,;:!?])", r"\1", _RAW_MARKER.sub(renumber, text))
    return text, [_as_dict(by_number[n]) | {"number": new[n]} for n in order]


def _tooltip(citation: Mapping[str, Any]) -> str:
    """A link title: the source's title and the sentence the answer takes from it."""
    quote = " ".join(str(citation.get("quote") or "").split())
    text = str(citation.get("title") or "")
    if quote:
        text += f": {quote[:TOOLTIP_CHARS]}" + ("…" if len(quote) > TOOLTIP_CHARS else "")
    return escape_md(text.replace('"', "”"))


def link_markers(body_md: str, citations: Sequence[Mapping[str, Any]]) -> str:
    """Escaped ``\\\\[n\\\\]`` markers in ``body_md`` as links to their source (the article's URL,
    with the cited sentence as the link's title), or in bold when the source has no URL.

    Example:
        >>> link_markers("NATO \\\\[1\\\\]\\\\.", [{"number": 1, "title": "T",
        ...     "url": "https://x.example/a", "quote": "He ruled out NATO."}])
        'NATO [\\\\[1\\\\]](https://x.example/a "T: He ruled out NATO\\\\.")\\\\.'
    """
    by_number = {int(c.get("number") or 0): c for c in citations}

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        citation = by_number.get(number)
        href = safe_url(citation.get("url")) if citation else None
        if citation is None or href is None:
            return f"**\\[{number}\\]**"
        return f'[\\[{number}\\]]({href} "{_tooltip(citation)}")'

    return _MARKER.sub(link, body_md)


def answer_notes(flags: Sequence[object]) -> list[str]:
    """What a reader should know about an answer, in plain words (internal checks are left
    out: see :data:`FLAG_NOTES`).

    Example:
        >>> answer_notes([{"kind": "no_citation", "message": "x"}, {"kind": "inferred_citation"}])
        ['This answer cites no source: check it against the articles.']
    """
    notes = []
    for flag in flags:
        note = FLAG_NOTES.get(str(_field(flag, "kind") or ""))
        if note and note not in notes:
            notes.append(note)
    return notes


def format_answer(answer: object) -> str:
    """The answer as safe Markdown: ``[n]`` numbered by first use and linked to their sources;
    a refusal is shown once, distinctly, with what the closest article covers.

    Example:
        >>> format_answer({"answer": "No.", "abstained": True}).splitlines()[0]
        "> **The articles don't say.**"
    """
    if is_abstention(answer):
        return _format_abstention(answer)
    text, citations = cited_sources(answer)
    body = link_markers(escape_block(text), citations)
    for note in answer_notes(_field(answer, "flags") or []):
        body += f"\n\n*{escape_md(note)}*"
    return body


def _format_abstention(answer: object) -> str:
    lines = [f"> **{ABSTAIN_TITLE}.**"]
    text = str(_field(answer, "answer", "") or "").strip()
    if text and _plain(text) != _plain(ABSTAIN_TITLE):  # the title already says it
        lines.append(">")
        lines.extend(f"> {escape_md(line)}" if line else ">" for line in text.splitlines())
    note = str(_field(answer, "abstain_note") or "").strip()
    if note:
        lines.extend([">", f"> {escape_md(note)}"])
    lines.extend(
        [">", "> *Try rephrasing, widening the filters, or adding articles in the Library tab.*"]
    )
    return "\n".join(lines)


def format_summary(summary: object, article: object | None = None, style: str = "") -> str:
    """A finished summary with a header naming the article (and the style, when given).

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
    return summary_header(article, style) + "\n\n" + body


def summary_header(article: object, style: str = "") -> str:
    """The article's header, then which style of summary follows.

    Example:
        >>> print(summary_header({"title": "T"}, "brief (2-3 sentences)"))
        ### T
        <BLANKLINE>
        *Summary style: brief \\(2\\-3 sentences\\)*
    """
    header = format_article_header(article)
    return header + (f"\n\n*Summary style: {escape_md(style)}*" if style else "")


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
    """A digest with its ``[n]`` markers linked to the articles, followed by the article list
    (one line per article).

    Each article's ``n`` field (else its position, from 1) is the marker that points to it.

    Example:
        >>> print(format_digest("Rates fell [1].", [{"title": "Cut", "url": "https://x.org"}]))
        Rates fell [\\[1\\]](https://x.org)\\.
        <BLANKLINE>
        **Articles**
        <BLANKLINE>
        - **\\[1\\]** [Cut](https://x.org)
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
        lines.append(f"- **\\[{number}\\]** {title}" + (f" — {meta}" if meta else ""))
    return body + "\n\n**Articles**\n\n" + "\n".join(lines) + _notes(digest_issues)


def _plain_meta(item: object) -> str:
    parts = [_field(item, "source"), _field(item, "published"), _field(item, "url")]
    return " · ".join(str(p) for p in parts if p)


def summary_markdown(summary: object, article: object, style: str = "") -> str:
    """A summary as a Markdown document to copy or save (the model's text as written).

    Example:
        >>> print(summary_markdown({"text": "Short."}, {"title": "T", "source": "S"}, "brief"))
        # T
        <BLANKLINE>
        S
        <BLANKLINE>
        Summary (brief):
        <BLANKLINE>
        Short.
        <BLANKLINE>
    """
    title = " ".join(str(_field(article, "title") or "Untitled").split())
    meta = _plain_meta(article)
    text = str(_field(summary, "text") or "").strip()
    head = f"# {title}\n\n" + (f"{meta}\n\n" if meta else "")
    return head + (f"Summary ({style}):\n\n" if style else "") + text + "\n"


def digest_markdown(text: str, articles: Sequence[object], heading: str = "Digest") -> str:
    """A digest as a Markdown document to copy or save, with its numbered article list.

    Example:
        >>> print(digest_markdown("- Rates fell [1]", [{"n": 1, "title": "Cut"}]))
        # Digest
        <BLANKLINE>
        - Rates fell [1]
        <BLANKLINE>
        ## Articles
        <BLANKLINE>
        1. Cut
        <BLANKLINE>
    """
    lines = [f"# {heading}", "", str(text).strip(), "", "## Articles", ""]
    for i, article in enumerate(articles, start=1):
        number = int(_field(article, "n", i) or i)
        title = " ".join(str(_field(article, "title") or "Untitled").split())
        meta = _plain_meta(article)
        lines.append(f"{number}. {title}" + (f" — {meta}" if meta else ""))
    return "\n".join(lines) + "\n"


def article_label(info: object) -> str:
    """Plain-text label of an article for a searchable list: ``Title — Outlet, date``.

    Example:
        >>> article_label({"title": "Rate cut", "source": "Ledger", "published": "2025-03-01"})
        'Rate cut — Ledger, 2025-03-01'
    """
    title = " ".join(str(_field(info, "title") or "Untitled").split())
    extra = ", ".join(str(v) for v in (_field(info, "source"), _field(info, "published")) if v)
    return f"{title} — {extra}" if extra else title


ARTICLE_COLUMNS = ["Title", "Outlet", "Author", "Date", "Chunks", "ID"]


def article_rows(infos: Iterable[object], recent: Sequence[str] = ()) -> list[list[Any]]:
    """Rows of the Library table (columns :data:`ARTICLE_COLUMNS`); values are plain text.

    Articles whose id is in ``recent`` (just added) come first, in that order.

    Example:
        >>> article_rows([{"title": "T", "source": None, "published": None, "chunks": 3,
        ...                "id": "abc"}])
        [['T', '', '', '', 3, 'abc']]
    """
    rows = [
        [
            str(_field(info, "title") or "Untitled"),
            str(_field(info, "source") or ""),
            str(_field(info, "author") or ""),
            str(_field(info, "published") or ""),
            int(_field(info, "chunks") or 0),
            str(_field(info, "id")),
        ]
        for info in infos
    ]
    first = {article_id: index for index, article_id in enumerate(recent)}
    return sorted(rows, key=lambda row: first.get(row[-1], len(first)))


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
    failed = list(_field(report, "failed") or [])
    failures = [f"{_origin_label(origin, typed)}: {reason}" for origin, reason in failed]
    seconds = float(_field(report, "seconds", 0.0) or 0.0)
    text = (
        f"Added **{_field(report, 'added', 0)}** · replaced {_field(report, 'replaced', 0)} · "
        f"unchanged {_field(report, 'unchanged', 0)} · failed {len(failed)} · "
        f"{_field(report, 'chunks_added', 0)} new chunks in {seconds:.1f} s"
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
    names = ("number", "article_id", "title", "source", "url", "published", "text", "quote")

    def passages(field: str) -> list[dict[str, Any]]:
        return [{name: _field(c, name) for name in names} for c in (_field(answer, field) or [])]

    return to_jsonable(
        {
            "answer": _field(answer, "answer", ""),
            "citations": passages("citations"),
            "sources": passages("sources"),
            "abstained": bool(_field(answer, "abstained", False)),
            "abstain_note": _field(answer, "abstain_note"),
            "flags": list(_field(answer, "flags") or []),
            "standalone_question": _field(answer, "standalone_question"),
        }
    )
