"""Articles and their loaders: text, Markdown, HTML, JSON Lines, folders, URLs and feeds.

Every loader turns a source into :class:`Article` objects with clean text and whatever
metadata the source really holds. Dates are normalized to ISO ``YYYY-MM-DD``; a date
that is missing or incomplete stays ``None`` (never guessed). Loaders stream: a folder
or a feed yields one article at a time, and a bad item becomes a :class:`LoadFailure`
with a reason while the rest keeps going.

Formats (by extension, or by content type for URLs):

- ``.txt``: optional ``Key: value`` header lines at the top (``Title``, ``Source``,
  ``Date``, ``URL``, ``Author``, ``Language``) ended by a blank line; otherwise a short
  first line followed by a blank line is the title.
- ``.md`` / ``.markdown``: optional YAML front matter (``title``, ``source``, ``date``,
  ``url``, ``author``, ``language``); the title may also be the first ``# `` heading.
- ``.html`` / ``.htm``: the article body and metadata (title, date, author, site name,
  canonical URL) extracted with trafilatura; navigation, ads and scripts are dropped.
  A page without an article body is refused.
- ``.jsonl``: one JSON object per line with the fields ``title``, ``text`` (or ``body``
  or ``content``, required), ``source`` (or ``outlet``/``publisher``), ``url`` (or
  ``link``), ``author`` (string or list), ``published`` (or ``date``), ``language``
  (or ``lang``). Bad lines are reported by line number; good lines are kept.
- ``.xml`` / ``.rss`` / ``.atom``: an RSS or Atom feed; each entry becomes an article.
  When an entry holds only a summary or a link, the linked page is fetched.
- ``http(s)://`` URLs: an HTML page or a feed (sniffed from the content type and body).

Folders are read recursively (hidden files and ``README``/``LICENSE``/``CHANGELOG``
files skipped). Files are refused when empty, binary, over ``RAG_MAX_FILE_MB``, or in an
undecodable encoding (non-UTF-8 text is detected and decoded).

Example:
    >>> from rag.ingest.documents import Article, load_source
    >>> art = Article.create(title="Dock strike ends", text="Workers returned on Tuesday.")
    >>> len(art.id), art.published is None
    (16, True)
    >>> items = list(load_source("samples/"))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, field_validator

from rag.errors import IngestError
from rag.text import canonical_url

if TYPE_CHECKING:
    import httpx

    from rag.settings import Settings

logger = logging.getLogger(__name__)

ID_LENGTH = 16
DEFAULT_MAX_FILE_MB = 20.0
DEFAULT_FETCH_TIMEOUT = 20.0
USER_AGENT = "news-rag/0.1 (+https://github.com/news-rag; article ingestion)"

EXTENSIONS: dict[str, str] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".xml": "feed",
    ".rss": "feed",
    ".atom": "feed",
}
SKIPPED_IN_FOLDERS = ("readme", "license", "licence", "changelog", "contributing")

# A page body shorter than this is navigation or boilerplate, not an article.
MIN_BODY_WORDS = 20
LOOSE_TEXT_WORDS = 8  # text after a block: at least this many words makes it a paragraph
_BLOCK_TAGS = (
    "div",
    "section",
    "aside",
    "article",
    "figure",
    "table",
    "ul",
    "ol",
    "dl",
    "form",
    "header",
    "footer",
    "nav",
    "blockquote",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
)
# A feed entry whose own content has at least this many words is used without fetching.
FULL_ENTRY_WORDS = 80

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------- model
class Article(BaseModel):
    """One news article: clean text plus the metadata the source really holds.

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
    source: str | None = None
    url: str | None = None
    author: str | None = None
    published: str | None = None
    language: str | None = None
    content_hash: str
    origin: str = ""

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
        source: str | None = None,
        url: str | None = None,
        author: str | None = None,
        published: Any = None,
        language: str | None = None,
        origin: str = "",
    ) -> Article:
        """Build an article, cleaning the text and computing ``id`` and ``content_hash``.

        ``published`` may be a date, datetime or string; it is normalized to ISO or
        dropped when it is not a complete date. Raises :class:`IngestError` when the
        text is empty.

        Example:
            >>> Article.create(title="T", text="  Body  text. ").text
            'Body text.'
        """
        clean = clean_text(text)
        if not clean:
            raise IngestError("the article has no text")
        heading = _one_line(title) or derive_title(clean)
        canonical = canonical_url(url) if url else None
        return cls(
            id=article_id(clean, canonical),
            title=heading,
            text=clean,
            source=_one_line(source) or None,
            url=canonical,
            author=_one_line(author) or None,
            published=parse_date(published),
            language=_one_line(language).lower() or None,
            content_hash=content_hash(heading, clean),
            origin=origin,
        )


@dataclass(frozen=True)
class LoadFailure:
    """A source (or part of one, such as a JSONL line) that could not become an article.

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


def _one_line(value: Any) -> str:
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


def _title_from_filename(path: Path) -> str:
    words = re.sub(r"[-_]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else ""


# --------------------------------------------------------------------------- dates
_SENTINELS = (datetime(1901, 1, 1), datetime(1902, 2, 2))


def parse_date(value: Any) -> str | None:
    """Normalize a date to ``YYYY-MM-DD``; ``None`` when missing, invalid or incomplete.

    Accepts dates, datetimes, ``time.struct_time`` and strings in most formats. A date
    missing its day, month or year is refused rather than completed.

    Example:
        >>> parse_date("Feb 14, 2025 09:30 CET"), parse_date("February 2025"), parse_date("")
        ('2025-02-14', None, None)
    """
    if value is None or value == "":
        return None
    if isinstance(value, time.struct_time):
        value = date(value.tm_year, value.tm_mon, value.tm_mday)
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat() if 1800 <= value.year <= 2200 else None
    return _parse_date_string(str(value).strip())


def _parse_date_string(text: str) -> str | None:
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])", text)
    if match:
        try:
            return parse_date(date(*map(int, match.groups())))
        except ValueError:
            return None
    from dateutil import parser

    try:
        with warnings.catch_warnings():  # unknown zone names (CET...) do not change the day
            warnings.simplefilter("ignore")
            first, second = (parser.parse(text, default=d, fuzzy=False) for d in _SENTINELS)
    except (ValueError, OverflowError, TypeError):
        return None
    if (first.year, first.month, first.day) != (second.year, second.month, second.day):
        return None  # a component came from the default: the date is incomplete
    return parse_date(first)


# --------------------------------------------------------------------------- bytes -> text
def _limits(settings: Settings | None) -> tuple[int, float]:
    max_mb = settings.max_file_mb if settings else DEFAULT_MAX_FILE_MB
    timeout = settings.fetch_timeout if settings else DEFAULT_FETCH_TIMEOUT
    return int(max_mb * 1024 * 1024), timeout


def _too_big(size: int, max_bytes: int) -> IngestError:
    return IngestError(
        f"too large: {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.3g} MB limit",
        hint="raise RAG_MAX_FILE_MB to accept larger files",
    )


def read_file_bytes(path: Path, settings: Settings | None = None) -> bytes:
    """Read a file, refusing empty files and files over ``RAG_MAX_FILE_MB``.

    Example:
        >>> read_file_bytes(Path("samples/briefs.jsonl"))[:1]  # doctest: +SKIP
        b'{'
    """
    max_bytes, _ = _limits(settings)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_big(size, max_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read the file: {exc.strerror or exc}") from None
    if not data.strip():
        raise IngestError("empty file")
    return data


_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode text bytes: BOM, declared charset, UTF-8, else detected (charset-normalizer).

    Raises :class:`IngestError` for empty or binary data and undetectable encodings.

    Example:
        >>> decode_bytes("Zürich".encode("cp1252"))
        'Zürich'
    """
    if not data.strip():
        raise IngestError("empty file")
    text = _decode(data, declared)
    if not text.strip():
        raise IngestError("empty file")
    control = sum(
        1 for ch in text[:20000] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f"
    )
    if control > max(2, len(text[:20000]) // 200):
        raise IngestError(
            "binary file (not text)", hint="only text, Markdown, HTML, JSONL and feeds are read"
        )
    return text


_PREFERRED_LEGACY = ("cp1252", "iso8859_1", "iso8859_15")


def _decode(data: bytes, declared: str | None) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                break
    if b"\x00" in data[:8192]:
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        raise IngestError(
            "binary file (not text)", hint="only text, Markdown, HTML, JSONL and feeds are read"
        )
    if declared:
        try:
            return data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            logger.debug("declared charset %s does not decode; detecting", declared)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    western = _western_legacy(data)
    if western is not None:
        return western
    from charset_normalizer import from_bytes

    results = from_bytes(data)
    best = results.best()
    if best is not None:  # on a near-tie, prefer the common Western legacy encodings
        close = {m.encoding: m for m in results if m.chaos <= best.chaos + 0.05}
        best = next((close[e] for e in _PREFERRED_LEGACY if e in close), best)
    if best is None:
        raise IngestError(
            "unknown text encoding (or binary data)",
            hint="save the file as UTF-8 and ingest it again",
        )
    logger.info("decoded text as %s", best.encoding)
    return str(best)


_WESTERN_EXTRA = set("‘’‚“”„–—…•€£¢¥©®™°«»¿¡·§Œœ")
_WESTERN_MAX_SHARE = 0.1


def _western_legacy(data: bytes) -> str | None:
    """Text of mostly-English/Western European data saved as Windows-1252, else None.

    Statistical detection needs many non-ASCII bytes; a news story with a few accented
    names ("Zürich", "café") gives it too little signal and comes out as another code
    page. When every non-ASCII character under cp1252 is a Latin letter or common
    typographic mark, and such characters are a small share of the letters (unlike Greek
    or Cyrillic text in a legacy code page), cp1252 is the answer.
    """
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        return None
    special = [ch for ch in text if ord(ch) > 127]
    accented = sum(1 for ch in special if ch.isalpha())
    letters = sum(1 for ch in text if ch.isalpha())
    if not special or accented > max(2, _WESTERN_MAX_SHARE * letters):
        return None
    if all(
        ("\u00c0" <= ch <= "\u00ff" and ch not in "×÷") or ch in _WESTERN_EXTRA for ch in special
    ):
        return text
    return None


def _utf16_without_bom(data: bytes) -> str | None:
    """Text of UTF-16 data saved without a BOM (mostly-ASCII text: every other byte is NUL)."""
    sample = data[:8192]
    if len(sample) < 4 or len(data) % 2:
        return None
    half = len(sample) // 2
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls >= 0.3 * half and even_nuls == 0:
        encoding = "utf-16-le"
    elif even_nuls >= 0.3 * half and odd_nuls == 0:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


# --------------------------------------------------------------------------- plain text
_HEADER = re.compile(
    r"^(title|headline|source|outlet|publisher|date|published|url|link|author|by|byline|"
    r"language|lang)\s*:\s*(.*)$",
    re.I,
)
_HEADER_FIELDS = {
    "title": "title",
    "headline": "title",
    "source": "source",
    "outlet": "source",
    "publisher": "source",
    "date": "published",
    "published": "published",
    "url": "url",
    "link": "url",
    "author": "author",
    "by": "author",
    "byline": "author",
    "language": "language",
    "lang": "language",
}


def parse_text(content: str, *, origin: str = "", default_title: str | None = None) -> Article:
    """Parse plain text with optional ``Key: value`` header lines and a title line.

    Example:
        >>> a = parse_text("Title: Floods\\nDate: 2024-09-18\\n\\nRain fell all night.")
        >>> a.title, a.published, a.text
        ('Floods', '2024-09-18', 'Rain fell all night.')
    """
    lines = clean_text(content).split("\n")
    fields: dict[str, str] = {}
    block = _first_block(lines)
    headers = [_HEADER.match(line) for line in block]
    if block and all(headers):
        fields = _header_fields(headers)
        lines = lines[len(block) :]
    elif len(block) > 1 and not headers[0] and all(headers[1:]):
        fields = {"title": block[0], **_header_fields(headers[1:])}
        lines = lines[len(block) :]
    body = "\n".join(lines).strip()
    if "title" not in fields:
        block = _first_block(body.split("\n"))
        if len(block) == 1 and _looks_like_title(block[0]) and body[len(block[0]) :].strip():
            fields["title"] = block[0]
            body = body[len(block[0]) :].strip()
    if not body:
        raise IngestError("empty file" if not fields else "no text after the header lines")
    return Article.create(
        title=fields.get("title") or default_title or "",
        text=body,
        source=fields.get("source"),
        url=_http_url(fields.get("url")),
        author=fields.get("author"),
        published=fields.get("published"),
        language=fields.get("language"),
        origin=origin,
    )


def _first_block(lines: list[str]) -> list[str]:
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    block = []
    for line in lines[start:]:
        if not line.strip():
            break
        block.append(line)
    return block


def _header_fields(matches: Iterable[re.Match[str] | None]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for match in matches:
        if match and match.group(2).strip():
            fields.setdefault(_HEADER_FIELDS[match.group(1).lower()], match.group(2).strip())
    return fields


def _looks_like_title(line: str) -> bool:
    return 0 < len(line) <= 200 and len(line.split()) <= 30 and not line.endswith((".", ",", ";"))


def _http_url(value: Any) -> str | None:
    text = _one_line(value)
    return text if text.lower().startswith(("http://", "https://")) else None


# --------------------------------------------------------------------------- markdown
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MD_FIELDS = {
    "title": ("title", "headline"),
    "source": ("source", "outlet", "publisher", "site", "site_name"),
    "url": ("url", "link", "canonical_url", "canonical"),
    "author": ("author", "authors", "byline"),
    "published": ("published", "date", "publish_date", "published_at", "pubdate"),
    "language": ("language", "lang"),
}


def parse_markdown(content: str, *, origin: str = "", default_title: str | None = None) -> Article:
    """Parse Markdown with optional YAML front matter; the title may be the first heading.

    Example:
        >>> md = "---\\nsource: Wire\\ndate: 2025-02-14\\n---\\n# Talks\\n\\nThey met."
        >>> a = parse_markdown(md)
        >>> a.title, a.source, a.published, a.text
        ('Talks', 'Wire', '2025-02-14', 'They met.')
    """
    content = clean_text(content)
    meta: dict[str, Any] = {}
    match = _FRONT_MATTER.match(content)
    if match:
        meta = _front_matter(match.group(1))
        content = content[match.end() :]
    fields = {name: _first_of(meta, keys) for name, keys in _MD_FIELDS.items()}
    body, heading = _strip_heading(content.strip())
    title = fields["title"] or heading
    if fields["title"] and heading and heading != fields["title"]:
        body = f"# {heading}\n\n{body}".strip()  # a different heading is part of the text
    if not body.strip():
        raise IngestError("empty file" if not meta and not heading else "no text after the title")
    return Article.create(
        title=_one_line(title) or default_title or "",
        text=body,
        source=_one_line(fields["source"]) or None,
        url=_http_url(fields["url"]),
        author=_one_line(fields["author"]) or None,
        published=fields["published"],
        language=_one_line(fields["language"]) or None,
        origin=origin,
    )


# Front matter is a few metadata lines; anything larger or deeper is not front matter.
MAX_FRONT_MATTER_CHARS = 20_000
MAX_FRONT_MATTER_DEPTH = 20


def _bracket_depth(text: str) -> int:
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def _front_matter(text: str) -> dict[str, Any]:
    import yaml

    if len(text) > MAX_FRONT_MATTER_CHARS:
        raise IngestError(
            f"YAML front matter too long (over {MAX_FRONT_MATTER_CHARS:,} characters)"
        )
    if _bracket_depth(text) > MAX_FRONT_MATTER_DEPTH:  # the YAML parser is slow on deep nesting
        raise IngestError("malformed YAML front matter (nested too deeply)")
    try:
        # Aliases (&a / *a) are refused: nested aliases expand exponentially ("billion laughs").
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, yaml.SafeLoader)):
            raise IngestError("YAML front matter uses aliases (*name), which are not accepted")
        meta = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise IngestError(f"malformed YAML front matter{where}") from None
    except RecursionError:
        raise IngestError("malformed YAML front matter (nested too deeply)") from None
    if meta is None:
        return {}
    if not isinstance(meta, dict):
        raise IngestError("malformed YAML front matter (expected key: value pairs)")
    return {str(k).lower(): v for k, v in meta.items()}


def _first_of(meta: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = meta.get(key)
        if value not in (None, "", []):
            return value
    return None


def _strip_heading(body: str) -> tuple[str, str | None]:
    lines = body.split("\n")
    if lines and lines[0].startswith("# "):
        return "\n".join(lines[1:]).strip(), lines[0][2:].strip().rstrip("#").strip()
    if len(lines) > 1 and lines[0].strip() and re.fullmatch(r"=+", lines[1].strip()):
        return "\n".join(lines[2:]).strip(), lines[0].strip()
    return body, None


# --------------------------------------------------------------------------- HTML
_HTML_LANG = re.compile(rb"<html[^>]*?\blang\s*=\s*[\"']?([a-zA-Z]{2,3}(?:-[a-zA-Z0-9]+)?)", re.I)


def parse_html(
    html: str | bytes,
    *,
    origin: str = "",
    url: str | None = None,
    default_title: str | None = None,
) -> Article:
    """Extract the article body and metadata from an HTML page (trafilatura).

    Navigation, ads, scripts, comments and footers are left out. The page's canonical
    URL is preferred over ``url``. Raises :class:`IngestError` when the page holds no
    article body.

    Example:
        >>> page = ("<html><head><title>Budget passes</title></head><body><nav>Home</nav>"
        ...         "<article><p>" + "The council approved the budget after a debate. " * 5
        ...         + "</p></article></body></html>")
        >>> parse_html(page).title
        'Budget passes'
    """
    import trafilatura

    raw = html.encode("utf-8") if isinstance(html, str) else html
    try:
        doc = trafilatura.bare_extraction(
            _loose_text_as_paragraphs(html),
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise IngestError(f"cannot parse the HTML page: {exc}") from None
    text = _html_body_text(doc)
    title = _one_line(getattr(doc, "title", None)) if doc is not None else ""
    if not _is_article_body(text):
        raise IngestError("no article body found in the HTML page (only navigation or boilerplate)")
    lines = text.split("\n")
    if title and lines and _one_line(lines[0]).lower() == title.lower():
        text = "\n".join(lines[1:])
    lang = _HTML_LANG.search(raw[:4096])
    page_url = _http_url(getattr(doc, "url", None)) or _http_url(url)
    return Article.create(
        title=title or default_title or "",
        text=text,
        source=getattr(doc, "sitename", None) or getattr(doc, "hostname", None),
        url=page_url,
        author=getattr(doc, "author", None),
        published=getattr(doc, "date", None),
        language=lang.group(1).decode("ascii") if lang else None,
        origin=origin,
    )


def _loose_text_as_paragraphs(html: str | bytes) -> Any:
    """The page as a tree in which text standing loose after a block is a paragraph.

    A story's lede sometimes has no opening ``<p>``: the page wraps it together with a box
    (``<p><div>related links</div>The lede...</p>``), the parser closes the ``<p>`` at the
    box, and the lede becomes text after the box, which the extractor skips along with the
    box. Such text (:data:`LOOSE_TEXT_WORDS` words or more), with the inline elements that
    follow it, is put into a ``<p>`` of its own. Returns the page unchanged if unparsable.

    Example:
        >>> page = "<div><p><div>Related</div>" + "Word " * 9 + "</p></div>"
        >>> tree = _loose_text_as_paragraphs(page)
        >>> [p.text.split()[0] for p in tree.iter("p") if p.text]
        ['Word']
    """
    from trafilatura.utils import load_html

    tree = load_html(html)
    if tree is None:
        return html
    for block in list(tree.iter(*_BLOCK_TAGS)):
        tail = block.tail or ""
        if len(tail.split()) < LOOSE_TEXT_WORDS or block.getparent() is None:
            continue
        paragraph = tree.makeelement("p", {})
        paragraph.text, block.tail = tail, None
        following = block.getnext()
        while following is not None and following.tag not in _BLOCK_TAGS:
            after = following.getnext()
            paragraph.append(following)  # an inline element moves with its own tail
            following = after
        block.addnext(paragraph)
    return tree


def _html_body_text(doc: Any) -> str:
    text = (getattr(doc, "text", None) or "") if doc is not None else ""
    # trafilatura puts each block on its own line: make blocks paragraphs.
    return clean_text(re.sub(r"\n+", "\n\n", text))


def _is_article_body(text: str) -> bool:
    words = text.split()
    longest_line = max((len(line.split()) for line in text.split("\n")), default=0)
    return len(words) >= MIN_BODY_WORDS and longest_line >= 10


def html_fragment_to_text(fragment: str) -> str:
    """Plain text of an HTML snippet (e.g. a feed entry's content), paragraphs kept.

    Example:
        >>> html_fragment_to_text("<p>One <b>two</b>.</p><p>Three<script>x()</script></p>")
        'One two.\\n\\nThree'
    """
    import lxml.html

    if not fragment or not fragment.strip():
        return ""
    if "<" not in fragment:
        return clean_text(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises ParserError and friends on junk
        return clean_text(re.sub(r"<[^>]+>", " ", fragment))
    for bad in root.xpath("//script|//style|//noscript|//iframe"):
        bad.drop_tree()
    for block in root.xpath("//p|//div|//br|//li|//h1|//h2|//h3|//h4|//h5|//h6|//blockquote"):
        block.tail = "\n\n" + (block.tail or "")
    return clean_text(root.text_content())


# --------------------------------------------------------------------------- JSON Lines
_JSONL_FIELDS = {
    "title": ("title", "headline"),
    "text": ("text", "body", "content"),
    "source": ("source", "outlet", "publisher"),
    "url": ("url", "link"),
    "author": ("author", "authors", "byline"),
    "published": ("published", "date", "published_at", "publish_date"),
    "language": ("language", "lang"),
}


def iter_jsonl(content: str, *, origin: str = "") -> Iterator[LoadItem]:
    """Articles from JSON Lines; each bad line becomes a :class:`LoadFailure` naming it.

    Example:
        >>> items = list(iter_jsonl('{"title": "A", "text": "Body."}\\nnot json'))
        >>> items[0].title, items[1].reason
        ('A', 'line 2: invalid JSON (Expecting value at column 1)')
    """
    seen_any = False
    for number, line in enumerate(content.splitlines(), 1):
        if not line.strip():
            continue
        seen_any = True
        try:
            yield _jsonl_article(line, origin=f"{origin}:{number}")
        except IngestError as exc:
            yield LoadFailure(origin, f"line {number}: {exc.message}")
    if not seen_any:
        yield LoadFailure(origin, "empty file")


def _jsonl_article(line: str, *, origin: str) -> Article:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise IngestError("invalid JSON (nested too deeply)") from None
    if not isinstance(record, dict):
        raise IngestError("not a JSON object")
    record = {str(k).lower(): v for k, v in record.items()}
    fields = {name: _first_of(record, keys) for name, keys in _JSONL_FIELDS.items()}
    text = fields["text"]
    if not isinstance(text, str) or not text.strip():
        raise IngestError("missing text (expected a non-empty 'text', 'body' or 'content')")
    title = fields["title"]
    if title is not None and not isinstance(title, str):
        raise IngestError("'title' must be a string")
    return Article.create(
        title=title or "",
        text=text,
        source=_one_line(fields["source"]) or None,
        url=_http_url(fields["url"]),
        author=_one_line(fields["author"]) or None,
        published=fields["published"] if isinstance(fields["published"], str) else None,
        language=_one_line(fields["language"]) or None,
        origin=origin,
    )


# --------------------------------------------------------------------------- feeds
Fetcher = Callable[[str], "Fetched"]


def looks_like_feed(data: bytes) -> bool:
    """True when bytes start like an RSS, RDF or Atom document.

    Example:
        >>> looks_like_feed(b'<?xml version="1.0"?><rss version="2.0">'), looks_like_feed(b"<html>")
        (True, False)
    """
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return bool(re.search(rb"<(rss|feed|rdf:rdf)[\s>]", head))


def iter_feed(
    data: bytes | str,
    *,
    origin: str = "",
    fetch: Fetcher | None = None,
    settings: Settings | None = None,
) -> Iterator[LoadItem]:
    """Articles from an RSS/Atom feed: one per entry.

    An entry with its full text (``content:encoded`` or Atom ``content``) is used as is;
    an entry with only a summary or a link gets its linked page fetched with ``fetch``.

    Example:
        >>> xml = ('<rss version="2.0"><channel><title>Wire</title><item><title>A</title>'
        ...        '<description>' + "word " * 90 + '</description></item></channel></rss>')
        >>> [a.source for a in iter_feed(xml)]
        ['Wire']
    """
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f": {problem}" if parsed.get("bozo") and problem else ""
        yield LoadFailure(origin, f"not an RSS/Atom feed, or a feed without entries{detail}")
        return
    feed_title = _one_line(parsed.feed.get("title")) or None
    feed_lang = _one_line(parsed.feed.get("language")) or None
    for number, entry in enumerate(parsed.entries, 1):
        label = _one_line(entry.get("title")) or f"entry {number}"
        try:
            yield _feed_entry(entry, feed_title, feed_lang, origin, fetch, settings)
        except IngestError as exc:
            where = entry.get("link") or origin
            yield LoadFailure(where, f"feed entry {label!r}: {exc.message}")


def _feed_entry(
    entry: Any,
    feed_title: str | None,
    feed_lang: str | None,
    origin: str,
    fetch: Fetcher | None,
    settings: Settings | None,
) -> Article:
    title = _one_line(entry.get("title"))
    link = _http_url(entry.get("link"))
    published = parse_date(entry.get("published_parsed") or entry.get("updated_parsed"))
    author = _one_line(entry.get("author")) or None
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    full = html_fragment_to_text("\n".join(contents)) if contents else ""
    summary = html_fragment_to_text(entry.get("summary", "") or "")
    body = full if len(full.split()) >= len(summary.split()) else summary
    if len(body.split()) < FULL_ENTRY_WORDS and link and fetch is not None:
        page = _article_from_fetched(fetch(link), settings)
        return Article.create(
            title=title or page.title,
            text=page.text,
            source=page.source or feed_title,
            url=page.url or link,
            author=author or page.author,
            published=published or page.published,
            language=page.language or feed_lang,
            origin=link,
        )
    if not body:
        raise IngestError("no text and no link to fetch")
    return Article.create(
        title=title,
        text=body,
        source=feed_title,
        url=link,
        author=author,
        published=published,
        language=feed_lang,
        origin=link or origin,
    )


def _article_from_fetched(fetched: Fetched, settings: Settings | None) -> Article:
    items = list(_parse_fetched(fetched, settings, fetch=None))
    if len(items) == 1 and isinstance(items[0], Article):
        return items[0]
    if items and isinstance(items[0], LoadFailure):
        raise IngestError(items[0].reason)
    raise IngestError("the linked page is a feed, not an article")


# --------------------------------------------------------------------------- HTTP
@dataclass(frozen=True)
class Fetched:
    """A downloaded resource: final URL (after redirects), content type, charset and bytes."""

    url: str
    content_type: str
    charset: str | None
    data: bytes


MAX_REDIRECTS = 10
ACCEPT_ENCODING = "gzip, deflate"  # what _read_response can decompress with a size cap


def check_public_url(url: str, settings: Settings | None = None) -> None:
    """Refuse a URL whose host is (or resolves to) a private, loopback or link-local address.

    User-supplied URLs and feed links are fetched by the server: without this check a
    URL could read the server's own services (``http://127.0.0.1:...``) or the cloud
    metadata endpoint (``http://169.254.169.254/``). ``RAG_FETCH_ALLOW_PRIVATE=true``
    allows them (e.g. for feeds on your own network).

    Example:
        >>> check_public_url("http://127.0.0.1:8000/feed.xml")
        Traceback (most recent call last):
        rag.errors.IngestError: refused: 127.0.0.1 is a loopback address, not a public one
        Hint: set RAG_FETCH_ALLOW_PRIVATE=true to fetch from your own network
    """
    if settings is not None and settings.fetch_allow_private:
        return
    import ipaddress
    import socket

    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise IngestError("invalid URL (no host)")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise IngestError("invalid URL (bad port)") from None
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return  # unresolvable: the download reports "cannot connect"
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for address in addresses:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        kind = _non_public_kind(address)
        if kind:
            raise IngestError(
                f"refused: {host} is a {kind} address, not a public one",
                hint="set RAG_FETCH_ALLOW_PRIVATE=true to fetch from your own network",
            )


def _non_public_kind(address: Any) -> str | None:
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "reserved"
    if address.is_private or not address.is_global:
        return "private"
    return None


def fetch_url(
    url: str, settings: Settings | None = None, client: httpx.Client | None = None
) -> Fetched:
    """Download ``url`` with the timeout and size limit from settings.

    Every URL, and every redirect target, must be public (:func:`check_public_url`)
    unless ``RAG_FETCH_ALLOW_PRIVATE`` is on. Raises :class:`IngestError` with a readable
    reason (refused, unreachable, timeout, HTTP status, too large).

    Example:
        >>> fetch_url("http://127.0.0.1:9/none")  # doctest: +SKIP
        Traceback (most recent call last):
        rag.errors.IngestError: cannot connect to 127.0.0.1:9 ...
    """
    import httpx

    max_bytes, timeout = _limits(settings)
    own = client is None
    client = client or httpx.Client(
        follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT}
    )
    try:
        for _ in range(MAX_REDIRECTS + 1):
            check_public_url(url, settings)
            with client.stream(
                "GET", url, follow_redirects=False, headers={"Accept-Encoding": ACCEPT_ENCODING}
            ) as response:
                if not response.is_redirect:
                    return _read_response(response, max_bytes)
                url = str(response.url.join(response.headers["location"]))
                if not is_url(url):
                    raise IngestError(f"redirected to a non-http(s) URL: {url[:100]}")
        raise IngestError(f"too many redirects (over {MAX_REDIRECTS})")
    except httpx.TimeoutException:
        raise IngestError(
            f"timed out after {timeout:g} s", hint="raise RAG_FETCH_TIMEOUT for slow sites"
        ) from None
    except httpx.ConnectError as exc:
        host = urlsplit(url).netloc
        raise IngestError(f"cannot connect to {host} ({_short(exc)})") from None
    except httpx.InvalidURL as exc:
        raise IngestError(f"invalid URL ({exc})") from None
    except httpx.HTTPError as exc:
        raise IngestError(f"download failed ({_short(exc)})") from None
    finally:
        if own:
            client.close()


def _read_response(response: httpx.Response, max_bytes: int) -> Fetched:
    """The body of a response, decompressed by hand so that a compression bomb stops at
    ``max_bytes`` instead of filling memory."""
    import zlib

    if response.status_code >= 400:
        raise IngestError(f"HTTP {response.status_code} {response.reason_phrase or ''}".strip())
    declared = int(response.headers.get("content-length") or 0)
    if declared > max_bytes:
        raise _too_big(declared, max_bytes)
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip", "x-gzip", "deflate"):
        raise IngestError(f"unsupported content encoding {encoding!r}")
    decoder = zlib.decompressobj(47) if encoding not in ("", "identity") else None  # gzip/zlib
    data = bytearray()
    try:
        for block in response.iter_raw():
            pending = block
            while pending:
                if decoder is None:
                    data.extend(pending)
                    pending = b""
                else:
                    data.extend(decoder.decompress(pending, max_bytes + 1 - len(data)))
                    pending = decoder.unconsumed_tail
                if len(data) > max_bytes:
                    raise _too_big(len(data), max_bytes)
        if decoder is not None:
            data.extend(decoder.flush())
    except zlib.error:
        raise IngestError(f"corrupt {encoding} response") from None
    if len(data) > max_bytes:
        raise _too_big(len(data), max_bytes)
    ctype = response.headers.get("content-type", "")
    return Fetched(
        url=str(response.url),
        content_type=ctype.split(";")[0].strip().lower(),
        charset=response.charset_encoding,
        data=bytes(data),
    )


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("\n")[0][:200]


_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_FEED_TYPES = {"application/rss+xml", "application/atom+xml", "application/rdf+xml"}


def load_url(
    url: str, settings: Settings | None = None, client: httpx.Client | None = None
) -> Iterator[LoadItem]:
    """Articles from an http(s) URL: one for an HTML page, one per entry for a feed.

    Example:
        >>> items = list(load_url("https://news.example/feed.xml"))  # doctest: +SKIP
    """
    import httpx

    _, timeout = _limits(settings)
    own = client is None
    client = client or httpx.Client(
        follow_redirects=True, timeout=timeout, headers={"User-Agent": USER_AGENT}
    )
    try:
        try:
            fetched = fetch_url(url, settings, client)
        except IngestError as exc:
            yield LoadFailure(url, exc.message)
            return
        yield from _guarded(
            url,
            _parse_fetched(fetched, settings, fetch=lambda link: fetch_url(link, settings, client)),
        )
    finally:
        if own:
            client.close()


def _parse_fetched(
    fetched: Fetched, settings: Settings | None, fetch: Fetcher | None
) -> Iterator[LoadItem]:
    ctype, data, origin = fetched.content_type, fetched.data, fetched.url
    try:
        if not data.strip():
            raise IngestError("empty response")
        if ctype in _FEED_TYPES or looks_like_feed(data):
            yield from iter_feed(data, origin=origin, fetch=fetch, settings=settings)
            return
        head = data[:1024].lstrip().lower()
        if ctype in _HTML_TYPES or head.startswith((b"<!doctype html", b"<html")):
            yield parse_html(_html_input(data, fetched.charset), origin=origin, url=fetched.url)
        elif ctype in ("text/plain", ""):
            yield parse_text(decode_bytes(data, fetched.charset), origin=origin)
        elif ctype in ("text/markdown", "text/x-markdown"):
            yield parse_markdown(decode_bytes(data, fetched.charset), origin=origin)
        else:
            raise IngestError(
                f"unsupported content type {ctype!r} (expected an HTML page or a feed)"
            )
    except IngestError as exc:
        yield LoadFailure(origin, exc.message)


def _html_input(data: bytes, charset: str | None) -> str | bytes:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError("binary data, not an HTML page")
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return data  # trafilatura detects the page's own charset


# --------------------------------------------------------------------------- files and folders
def load_file(
    path: str | Path, settings: Settings | None = None, fetch: Fetcher | None = None
) -> Iterator[LoadItem]:
    """Articles from one file, chosen by extension (see the module docstring).

    Example:
        >>> [type(x).__name__ for x in load_file("samples/briefs.jsonl")]  # doctest: +SKIP
        ['Article', 'Article']
    """
    path = Path(path)
    origin = str(path)
    kind = EXTENSIONS.get(path.suffix.lower())
    if kind is None:
        supported = ", ".join(sorted(EXTENSIONS))
        yield LoadFailure(
            origin, f"unsupported file type {path.suffix or '(none)'!r} (supported: {supported})"
        )
        return
    yield from _guarded(origin, _load_file_kind(path, kind, settings, fetch))


def _load_file_kind(
    path: Path, kind: str, settings: Settings | None, fetch: Fetcher | None
) -> Iterator[LoadItem]:
    origin = str(path)
    try:
        data = read_file_bytes(path, settings)
        if kind == "feed":
            yield from iter_feed(
                data, origin=origin, fetch=fetch or _default_fetcher(settings), settings=settings
            )
        elif kind == "html":
            _reject_binary(data)
            yield parse_html(data, origin=origin, default_title=_title_from_filename(path))
        elif kind == "jsonl":
            yield from iter_jsonl(decode_bytes(data), origin=origin)
        elif kind == "markdown":
            yield parse_markdown(
                decode_bytes(data), origin=origin, default_title=_title_from_filename(path)
            )
        else:
            yield parse_text(
                decode_bytes(data), origin=origin, default_title=_title_from_filename(path)
            )
    except IngestError as exc:
        yield LoadFailure(origin, exc.message)


def _guarded(origin: str, items: Iterator[LoadItem]) -> Iterator[LoadItem]:
    """``items``, with any unexpected error turned into a :class:`LoadFailure` for ``origin``.

    Loaders report bad input as :class:`IngestError`; this is the net under them, so one
    hostile file (deep nesting, a parser bug) fails alone instead of stopping the batch.
    """
    try:
        yield from items
    except Exception as exc:  # one source must never stop the others
        logger.warning("unexpected error reading %s", origin, exc_info=True)
        yield LoadFailure(origin, f"could not be read ({type(exc).__name__})")


def _reject_binary(data: bytes) -> None:
    decode_bytes(data[:65536])  # raises for binary data; trafilatura decodes the page itself


def _default_fetcher(settings: Settings | None) -> Fetcher:
    return lambda link: fetch_url(link, settings)


def iter_folder(folder: str | Path) -> Iterator[Path]:
    """Supported files under ``folder``, recursively, in sorted order.

    Hidden files and folders and README/LICENSE/CHANGELOG files are skipped.

    Example:
        >>> [p.suffix for p in iter_folder("samples")][:1]  # doctest: +SKIP
        ['.txt']
    """
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__")))
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith(".") or path.suffix.lower() not in EXTENSIONS:
                continue
            if path.stem.lower().startswith(SKIPPED_IN_FOLDERS):
                continue
            yield path


def is_url(source: str | Path) -> bool:
    """True for ``http://`` and ``https://`` strings.

    Example:
        >>> is_url("https://a.example/x"), is_url("samples/")
        (True, False)
    """
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def load_source(source: str | Path, settings: Settings | None = None) -> Iterator[LoadItem]:
    """Articles (and failures) from a file, a folder, or an http(s) URL.

    Example:
        >>> articles = [x for x in load_source("samples/") if isinstance(x, Article)]
    """
    if is_url(source):
        yield from load_url(str(source), settings)
        return
    text = str(source)
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text):
        yield LoadFailure(text, "unsupported URL scheme (only http:// and https://)")
        return
    path = Path(source).expanduser()
    if path.is_dir():
        for file in iter_folder(path):
            yield from load_file(file, settings)
    elif path.is_file():
        yield from load_file(path, settings)
    elif path.exists():
        yield LoadFailure(text, "not a regular file or folder")
    else:
        yield LoadFailure(text, "no such file or folder")
