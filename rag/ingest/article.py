"""The article model: one news article, its stable id, content hash, title and clean text.

Every loader builds :class:`Article` objects through :meth:`Article.create`, which
cleans the text, derives a title when there is none, normalizes the date and computes
the id (from the canonical URL when there is one, else from the text). An input that
cannot become an article is a :class:`LoadFailure` with a reason.

Example:
    >>> art = Article.create(title="Dock strike ends", text="Workers returned on Tuesday.")
    >>> len(art.id), art.published is None
    (16, True)
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypedDict, Unpack

from pydantic import field_validator

from rag.errors import IngestError
from rag.ingest.dates import parse_date
from rag.renamed import KeepsOldNames, OldName, renamed_argument, renamed_field
from rag.text import canonical_url

__all__ = [
    "ID_LENGTH",
    "Article",
    "ArticleMeta",
    "LoadFailure",
    "LoadItem",
    "article_id",
    "clean_text",
    "content_hash",
    "derive_title",
    "one_line",
    "title_from_filename",
]

ID_LENGTH = 16

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------- model
class ArticleMeta(TypedDict, total=False):
    """What may be known of an article besides its title and text (every key optional).

    The keyword arguments shared by :meth:`Article.create`,
    :func:`rag.ingest.pipeline.ingest_text` and :meth:`rag.NewsRAG.ingest_text`.
    ``published`` may be a date or any string :func:`~rag.ingest.dates.parse_date` reads.

    Example:
        >>> meta: ArticleMeta = {"outlet": "Civic Wire", "published": "2025-02-14"}
        >>> Article.create(title="Flood", text="Water rose.", **meta).outlet
        'Civic Wire'
    """

    outlet: str | None
    url: str | None
    published: str | date | None
    author: str | None


class Article(KeepsOldNames):
    """One news article: clean text plus the metadata its input really holds.

    ``id`` is stable: derived from the canonical URL when there is one (so a changed
    article at the same URL replaces the old one), else from the normalized text.
    ``content_hash`` covers the normalized title and text. Build with :meth:`create`.

    Example:
        >>> a = Article.create(title="Rates cut", text="The bank cut rates.",
        ...                    url="https://news.example/rates?utm_source=x",
        ...                    published="7 Nov 2024")
        >>> a.published, a.url
        ('2024-11-07', 'https://news.example/rates')
    """

    id: str
    title: str
    text: str
    outlet: str | None = renamed_field("outlet", "source", default=None)
    url: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    content_hash: str
    origin: str = ""

    source = OldName("outlet")  # the field's old name, for older callers

    @field_validator("published")
    @classmethod
    def _iso_date(cls, value: str | None) -> str | None:
        if value is not None and not _ISO_DATE.match(value):
            raise ValueError("published must be an ISO date YYYY-MM-DD")
        return value

    @classmethod
    def create(
        cls,
        *,
        title: str,
        text: str,
        language: str | None = None,
        origin: str = "",
        source: str | None = None,
        **meta: Unpack[ArticleMeta],
    ) -> Article:
        """Build an article, cleaning the text and computing ``id`` and ``content_hash``.

        ``meta`` holds the :class:`ArticleMeta` keys. ``published`` is normalized to ISO
        or dropped when it is not a complete date. ``source`` is the old name of
        ``outlet`` (deprecated). Raises :class:`IngestError` when the text is empty.

        Example:
            >>> Article.create(title="T", text="  Body  text. ").text
            'Body text.'
        """
        clean = clean_text(text)
        if not clean:
            raise IngestError("the article has no text")
        heading = one_line(title) or derive_title(clean)
        outlet = renamed_argument(meta.get("outlet"), source, "outlet", "source")
        url = meta.get("url")
        canonical = canonical_url(url) if url else None
        return cls(
            id=article_id(clean, canonical),
            title=heading,
            text=clean,
            outlet=one_line(outlet) or None,
            url=canonical,
            author=one_line(meta.get("author")) or None,
            published=parse_date(meta.get("published")),
            language=one_line(language).lower() or None,
            content_hash=content_hash(heading, clean),
            origin=origin,
        )


@dataclass(frozen=True)
class LoadFailure:
    """An input (or part of one, such as a JSONL line) that could not become an article.

    Example:
        >>> LoadFailure("notes.txt", "empty file")
        LoadFailure(origin='notes.txt', reason='empty file')
    """

    origin: str
    reason: str


LoadItem = Article | LoadFailure


# --------------------------------------------------------------------------- text helpers
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")


def clean_text(text: str) -> str:
    """Normalize text: NFC, ``\\n`` newlines, no control characters, single spaces,
    at most one blank line between paragraphs, no surrounding whitespace.

    Example:
        >>> clean_text("A\\r\\n\\r\\n\\r\\nB  c\\t d ")
        'A\\n\\nB c d'
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def one_line(value: Any) -> str:
    """A metadata value as one clean line: lists joined with commas, whitespace collapsed.

    Example:
        >>> one_line(["Ann Lee", None, "Bo  Chen "]), one_line(None)
        ('Ann Lee, Bo Chen', '')
    """
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v)
    text = _CONTROL.sub("", unicodedata.normalize("NFC", str(value)))
    return _SPACES.sub(" ", re.sub(r"\s+", " ", text)).strip()


def _hash_normal(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def content_hash(title: str, text: str) -> str:
    """sha256 (hex) of the whitespace-normalized title and text.

    Example:
        >>> content_hash("T", "a  b") == content_hash("T ", "a b")
        True
    """
    payload = _hash_normal(title) + "\n" + _hash_normal(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def article_id(text: str, url: str | None = None) -> str:
    """Stable article id: sha256 of the canonical URL if given, else of the normalized text.

    Example:
        >>> article_id("x", "https://a.example/n") == article_id("y", "https://a.example/n")
        True
    """
    key = f"url:{canonical_url(url)}" if url else f"text:{_hash_normal(text)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:ID_LENGTH]


def derive_title(text: str, limit: int = 100) -> str:
    """A title for untitled text: its first sentence, cut at ``limit`` characters.

    Example:
        >>> derive_title("Storm hits coast. More follows.")
        'Storm hits coast.'
    """
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0].split("\n")[0]
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0] + "…"


def title_from_filename(path: Path) -> str:
    """A title made from a file name: dashes and underscores become spaces.

    Example:
        >>> title_from_filename(Path("notes/port-strike_ends.txt"))
        'Port strike ends'
    """
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else ""
