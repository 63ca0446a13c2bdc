"""An HTML page's headline: the page's own title when its metadata gives the site's instead.

Portals often set ``og:title`` to the site's name ("Yahoo News - Latest News & Headlines")
on every story page, while the ``<title>`` tag and the first ``<h1>`` carry the story's
headline. A headline shares words with the story's opening paragraph; a site name does
not. So the metadata title is kept unless it shares almost no words with the opening and
another title on the page shares many.

Example:
    >>> opening = "The city council approved a budget of 3 million dollars on Tuesday."
    >>> page_headline("Daily Planet - Latest News", ["Council approves budget"], opening)
    'Council approves budget'
    >>> page_headline("Budget passes after long debate", ["Daily Planet"], opening)
    'Budget passes after long debate'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rag.text import stop_words

__all__ = ["page_headline", "page_titles"]

OPENING_WORDS = 120  # the opening paragraph(s), where a story repeats its headline's words
WEAK_OVERLAP = 0.2  # a title sharing less than this share of its words is not the story's
STRONG_OVERLAP = 0.5  # another title must share at least this share to replace it
STEM_LETTERS = 5  # "Russia" and "Russian" match on their first letters
_SITE_SEPARATOR = re.compile(r"\s+[-|–—:»]\s+")
_WORD = re.compile(r"[^\W_]+")


def page_headline(title: str, candidates: Sequence[str], body: str) -> str:
    """``title``, or the candidate that the body's opening bears out far better.

    Example:
        >>> page_headline("", ["Storm closes schools"], "Heavy snow closed schools.")
        'Storm closes schools'
    """
    opening = {w[:STEM_LETTERS] for w in _words(" ".join(body.split()[:OPENING_WORDS]))}
    kept = title.strip()
    if kept and _overlap(kept, opening) >= WEAK_OVERLAP:
        return kept
    best, best_overlap = kept, 0.0
    for candidate in candidates:
        for piece in _pieces(candidate):
            overlap = _overlap(piece, opening)
            if overlap > best_overlap:
                best, best_overlap = piece, overlap
    return best if not kept or best_overlap >= STRONG_OVERLAP else kept


def page_titles(tree: Any) -> list[str]:
    """The page's ``<title>`` and its first ``<h1>``, as text (an lxml tree; ``[]`` if none).

    Example:
        >>> from lxml import html
        >>> page_titles(html.fromstring("<html><head><title>A - Site</title></head>"
        ...                             "<body><h1>A</h1></body></html>"))
        ['A - Site', 'A']
    """
    if not hasattr(tree, "iter"):
        return []
    titles: list[str] = []
    for tag in ("title", "h1"):
        element = next(tree.iter(tag), None)
        text = " ".join(element.text_content().split()) if element is not None else ""
        if text:
            titles.append(text)
    return titles


def _pieces(candidate: str) -> list[str]:
    """The candidate and, when it has a site name after a separator, each part of it."""
    parts = [p.strip() for p in _SITE_SEPARATOR.split(candidate) if p.strip()]
    return [candidate.strip(), *parts] if len(parts) > 1 else [candidate.strip()]


def _words(text: str) -> list[str]:
    ignored = stop_words()
    return [w for w in _WORD.findall(text.lower()) if w not in ignored]


def _overlap(title: str, opening: set[str]) -> float:
    """Share of the title's words whose first letters (``STEM_LETTERS``) begin a word of
    the opening (``opening`` holds those beginnings)."""
    words = _words(title)
    if not words:
        return 0.0
    return sum(w[:STEM_LETTERS] in opening for w in words) / len(words)
