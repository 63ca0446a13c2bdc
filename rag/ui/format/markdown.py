"""Safe Markdown: text from an article or the model is shown as text, never as markup.

HTML special characters become entities and Markdown punctuation is backslash-escaped, so a
story containing ``<script>`` or ``[link](javascript:...)`` is displayed as those characters;
links are only made for ``http(s)`` URLs. The other ``rag.ui.format`` modules build on these.

Example:
    >>> escape_md("<b>1.5%</b> *rise*")
    '&lt;b&gt;1\\\\.5%&lt;/b&gt; \\\\*rise\\\\*'
    >>> safe_url("javascript:alert(1)") is None
    True
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

__all__ = [
    "ESCAPED_MARKER",
    "escape_block",
    "escape_md",
    "field_of",
    "md_link",
    "meta_line",
    "safe_url",
]

# Every ASCII punctuation character that Markdown (CommonMark/GFM) or the app's renderer
# gives a meaning to. '&', '<' and '>' are handled by html.escape first.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$])")
ESCAPED_MARKER = re.compile(r"\\\[(\d{1,3})\\\]")
"""An ``[n]`` marker after :func:`escape_md` (``\\[n\\]``)."""


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


def md_link(label_md: str, url: object) -> str:
    """A Markdown link if ``url`` is safe, else just the (already escaped) label.

    Example:
        >>> md_link("Cut", "https://x.org"), md_link("Cut", "javascript:x")
        ('[Cut](https://x.org)', 'Cut')
    """
    href = safe_url(url)
    return f"[{label_md}]({href})" if href else label_md


def field_of(obj: object, name: str, default: Any = None) -> Any:
    """Attribute or mapping key ``name`` of ``obj`` (answers may arrive as dicts from the API).

    Example:
        >>> field_of({"title": "T"}, "title"), field_of(object(), "title", "Untitled")
        ('T', 'Untitled')
    """
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def meta_line(outlet: object, published: object, url: object) -> str:
    """``Outlet · 2025-02-14 · link`` with the missing parts left out.

    Example:
        >>> meta_line("Ledger", None, "https://x.org")
        'Ledger · [link](https://x.org)'
    """
    parts = [escape_md(value) for value in (outlet, published) if value]
    href = safe_url(url)
    if href:
        parts.append(f"[link]({href})")
    return " · ".join(parts)
