"""An answer and its passages as safe Markdown: ``[n]`` citations numbered by first use and
linked to their articles, the passages read (whole sentences, the quoted ones in bold), a
refusal shown once and distinctly, and the notes a reader should see.

Example:
    >>> format_partial("NATO [1")
    'NATO \\\\[1 ▌'
    >>> count_articles([{"article_id": "a"}, {"article_id": "a"}])
    1
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from rag.text import sentence_spans
from rag.ui.format.markdown import (
    ESCAPED_MARKER,
    escape_block,
    escape_md,
    field_of,
    meta_line,
    safe_url,
)

__all__ = [
    "ABSTAIN_TITLE",
    "FLAG_NOTES",
    "PASSAGE_CHARS",
    "answer_notes",
    "cited_passages",
    "count_articles",
    "format_answer",
    "format_found",
    "format_partial",
    "format_passages",
    "is_abstention",
    "link_markers",
    "passage_excerpt",
]

_RAW_MARKER = re.compile(r"\[(\d{1,3})\]")
_FRAGMENT_START = re.compile(r"^[a-z,;:)\]\-–—]")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)\]]*$")
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


def format_passages(citations: Sequence[object]) -> str:
    """The numbered passages of an answer: title, outlet, date, link and the passage, in whole
    sentences with the sentences the answer is taken from in bold.

    Example:
        >>> print(format_passages([{"number": 1, "title": "T", "outlet": "S",
        ...     "published": "2025-02-14", "url": "", "text": "p."}]))
        **\\[1\\] T**
        S · 2025\\-02\\-14
        <BLANKLINE>
        > p\\.
    """
    blocks = []
    for citation in citations:
        number = field_of(citation, "number", "")
        title = escape_md(field_of(citation, "title") or "Untitled")
        head = f"**\\[{number}\\] {title}**"
        meta = meta_line(
            field_of(citation, "outlet"), field_of(citation, "published"), field_of(citation, "url")
        )
        passage = passage_excerpt(
            field_of(citation, "text") or "", field_of(citation, "quote") or ""
        )
        blocks.append("\n".join(part for part in (head, meta) if part) + f"\n\n{passage}")
    return "\n\n".join(blocks)


def format_found(passages: Sequence[object]) -> str:
    """The articles being read, one line each (title, outlet, date), before the answer.

    Example:
        >>> print(format_found([{"article_id": "a", "title": "T", "outlet": "S"},
        ...                     {"article_id": "a", "title": "T", "outlet": "S"}]))
        - T — S
    """
    lines, seen = [], set()
    for passage in passages:
        key = field_of(passage, "article_id") or field_of(passage, "title")
        if key in seen:
            continue
        seen.add(key)
        title = escape_md(field_of(passage, "title") or "Untitled")
        meta = ", ".join(
            escape_md(v) for v in (field_of(passage, "outlet"), field_of(passage, "published")) if v
        )
        lines.append(f"- {title}" + (f" — {meta}" if meta else ""))
    return "\n".join(lines)


def count_articles(passages: Sequence[object]) -> int:
    """How many distinct articles the passages come from.

    Example:
        >>> count_articles([{"article_id": "a"}, {"article_id": "a"}, {"article_id": "b"}])
        2
    """
    return len({field_of(s, "article_id") or field_of(s, "title") for s in passages})


def is_abstention(answer: object) -> bool:
    """True when the answer says the articles do not contain the answer."""
    return bool(field_of(answer, "abstained", False))


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


def cited_passages(answer: object) -> tuple[str, list[dict[str, Any]]]:
    """The answer text with its ``[n]`` markers numbered 1, 2, 3... in order of first use,
    and its citations in that order with the new numbers (markers without a source go).

    Example:
        >>> text, cited = cited_passages({"answer": "A [3]. B [1][3]. C [7].", "citations": [
        ...     {"number": 1, "title": "One"}, {"number": 3, "title": "Three"}]})
        >>> text, [(c["number"], c["title"]) for c in cited]
        ('A [1]. B [2][1]. C.', [(1, 'Three'), (2, 'One')])
    """
    text = str(field_of(answer, "answer", "") or "").strip()
    by_number = {}
    for citation in field_of(answer, "citations") or []:
        number = field_of(citation, "number")
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

    return ESCAPED_MARKER.sub(link, body_md)


def answer_notes(flags: Sequence[object]) -> list[str]:
    """What a reader should know about an answer, in plain words (internal checks are left
    out: see :data:`FLAG_NOTES`).

    Example:
        >>> answer_notes([{"kind": "no_citation", "message": "x"}, {"kind": "inferred_citation"}])
        ['This answer cites no source: check it against the articles.']
    """
    notes = []
    for flag in flags:
        note = FLAG_NOTES.get(str(field_of(flag, "kind") or ""))
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
    text, citations = cited_passages(answer)
    body = link_markers(escape_block(text), citations)
    for note in answer_notes(field_of(answer, "flags") or []):
        body += f"\n\n*{escape_md(note)}*"
    return body


def _format_abstention(answer: object) -> str:
    lines = [f"> **{ABSTAIN_TITLE}.**"]
    text = str(field_of(answer, "answer", "") or "").strip()
    if text and _plain(text) != _plain(ABSTAIN_TITLE):  # the title already says it
        lines.append(">")
        lines.extend(f"> {escape_md(line)}" if line else ">" for line in text.splitlines())
    note = str(field_of(answer, "abstain_note") or "").strip()
    if note:
        lines.extend([">", f"> {escape_md(note)}"])
    lines.extend(
        [">", "> *Try rephrasing, widening the filters, or adding articles in the Library tab.*"]
    )
    return "\n".join(lines)
