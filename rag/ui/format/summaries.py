"""Summaries and digests as safe Markdown for the page, and as Markdown documents to copy or
save (the model's text as written).

Example:
    >>> print(summary_header({"title": "T"}))
    ### T
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rag.ui.format.markdown import (
    ESCAPED_MARKER,
    escape_block,
    escape_md,
    field_of,
    md_link,
    meta_line,
    safe_url,
)

__all__ = [
    "digest_markdown",
    "format_article_header",
    "format_digest",
    "format_summary",
    "summary_header",
    "summary_markdown",
]


def format_summary(summary: object, article: object | None = None, style: str = "") -> str:
    """A finished summary with a header naming the article (and the style, when given).

    Example:
        >>> print(format_summary({"text": "Short."}, {"title": "T", "outlet": "S"}))
        ### T
        S
        <BLANKLINE>
        Short\\.
    """
    text = field_of(summary, "text") or field_of(summary, "summary") or ""
    body = escape_block(str(text).strip())
    body += _notes(field_of(summary, "issues") or [])
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
    title = escape_md(field_of(article, "title") or "Untitled")
    meta = meta_line(
        field_of(article, "outlet"), field_of(article, "published"), field_of(article, "url")
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
    numbered = [(int(field_of(a, "n", i) or i), a) for i, a in enumerate(articles, start=1)]
    urls = {number: field_of(article, "url") for number, article in numbered}

    def link(match: re.Match[str]) -> str:
        number = int(match.group(1))
        href = safe_url(urls.get(number))
        return f"[\\[{number}\\]]({href})" if href else f"**\\[{number}\\]**"

    body = ESCAPED_MARKER.sub(link, escape_block(str(text).strip()))
    if not articles:
        return body
    lines = []
    for number, article in numbered:
        title = md_link(
            escape_md(field_of(article, "title") or "Untitled"), field_of(article, "url")
        )
        meta = meta_line(field_of(article, "outlet"), field_of(article, "published"), None)
        lines.append(f"- **\\[{number}\\]** {title}" + (f" — {meta}" if meta else ""))
    return body + "\n\n**Articles**\n\n" + "\n".join(lines) + _notes(digest_issues)


def _plain_meta(item: object) -> str:
    parts = [field_of(item, "outlet"), field_of(item, "published"), field_of(item, "url")]
    return " · ".join(str(p) for p in parts if p)


def summary_markdown(summary: object, article: object, style: str = "") -> str:
    """A summary as a Markdown document to copy or save (the model's text as written).

    Example:
        >>> print(summary_markdown({"text": "Short."}, {"title": "T", "outlet": "S"}, "brief"))
        # T
        <BLANKLINE>
        S
        <BLANKLINE>
        Summary (brief):
        <BLANKLINE>
        Short.
        <BLANKLINE>
    """
    title = " ".join(str(field_of(article, "title") or "Untitled").split())
    meta = _plain_meta(article)
    text = str(field_of(summary, "text") or "").strip()
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
        number = int(field_of(article, "n", i) or i)
        title = " ".join(str(field_of(article, "title") or "Untitled").split())
        meta = _plain_meta(article)
        lines.append(f"{number}. {title}" + (f" — {meta}" if meta else ""))
    return "\n".join(lines) + "\n"
