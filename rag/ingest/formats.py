"""File formats: plain text, Markdown, HTML pages and JSON Lines become articles.

Each parser takes decoded text (or an HTML page) and returns what the format really
holds; a missing or incomplete date stays ``None``.

- plain text: optional ``Key: value`` header lines at the top (``Title``, ``Source``,
  ``Date``, ``URL``, ``Author``, ``Language``) ended by a blank line; otherwise a short
  first line followed by a blank line is the title.
- Markdown: optional YAML front matter (``title``, ``source``, ``date``, ``url``,
  ``author``, ``language``); the title may also be the first ``# `` heading.
- HTML: the article body and metadata (title, date, author, site name, canonical URL)
  extracted with trafilatura; navigation, ads and scripts are dropped. A page without an
  article body is refused.
- JSON Lines: one JSON object per line with the fields ``title``, ``text`` (or ``body``
  or ``content``, required), ``source`` (or ``outlet``/``publisher``), ``url`` (or
  ``link``), ``author`` (string or list), ``published`` (or ``date``), ``language``
  (or ``lang``). Bad lines are reported by line number; good lines are kept.

RSS/Atom feeds are in :mod:`rag.ingest.feeds`.

Example:
    >>> parse_text("Title: Floods\\n\\nRain fell all night.").title
    'Floods'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from rag.errors import IngestError
from rag.ingest.article import Article, LoadFailure, LoadItem, clean_text, one_line
from rag.ingest.decoding import decode_bytes
from rag.ingest.headline import page_headline, page_titles
from rag.ingest.page_date import page_published

if TYPE_CHECKING:
    from rag.ingest.fetch import Fetched

__all__ = [
    "html_fragment_to_text",
    "http_url",
    "iter_jsonl",
    "parse_html",
    "parse_markdown",
    "parse_page",
    "parse_text",
]

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


# --------------------------------------------------------------------------- plain text
_HEADER = re.compile(
    r"^(title|headline|source|outlet|publisher|date|published|url|link|author|by|byline|"
    r"language|lang)\s*:\s*(.*)$",
    re.I,
)
_HEADER_FIELDS = {
    "title": "title",
    "headline": "title",
    "source": "outlet",
    "outlet": "outlet",
    "publisher": "outlet",
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
        outlet=fields.get("outlet"),
        url=http_url(fields.get("url")),
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


def http_url(value: Any) -> str | None:
    """A metadata value as an http(s) URL, or ``None`` when it is not one.

    Example:
        >>> http_url(" https://news.example/a "), http_url("file:///etc/passwd")
        ('https://news.example/a', None)
    """
    text = one_line(value)
    return text if text.lower().startswith(("http://", "https://")) else None


# --------------------------------------------------------------------------- markdown
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.S)
_MD_FIELDS = {
    "title": ("title", "headline"),
    "outlet": ("source", "outlet", "publisher", "site", "site_name"),
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
        >>> a.title, a.outlet, a.published, a.text
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
        title=one_line(title) or default_title or "",
        text=body,
        outlet=one_line(fields["outlet"]) or None,
        url=http_url(fields["url"]),
        author=one_line(fields["author"]) or None,
        published=fields["published"],
        language=one_line(fields["language"]) or None,
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
    raw = html.encode("utf-8") if isinstance(html, str) else html
    page = _loose_text_as_paragraphs(html)
    titles, declared_date = page_titles(page), page_published(page)
    # Precise first: it leaves out lists of other stories' teasers; a short page it finds
    # no body in is read again the usual way.
    doc = _extract(page, url, precise=True)
    if not _is_article_body(_html_body_text(doc)):
        doc = _extract(page, url, precise=False)
    text = _html_body_text(doc)
    if not _is_article_body(text):
        raise IngestError("no article body found in the HTML page (only navigation or boilerplate)")
    title = one_line(getattr(doc, "title", None)) if doc is not None else ""
    title = page_headline(title, titles, text)
    lines = text.split("\n")
    if title and lines and one_line(lines[0]).lower() == title.lower():
        text = "\n".join(lines[1:])
    lang = _HTML_LANG.search(raw[:4096])
    page_url = http_url(getattr(doc, "url", None)) or http_url(url)
    return Article.create(
        title=title or default_title or "",
        text=text,
        outlet=getattr(doc, "sitename", None) or getattr(doc, "hostname", None),
        url=page_url,
        author=getattr(doc, "author", None),
        published=declared_date or getattr(doc, "date", None),
        language=lang.group(1).decode("ascii") if lang else None,
        origin=origin,
    )


def _extract(page: Any, url: str | None, *, precise: bool) -> Any:
    """trafilatura's reading of the page (a tree, which it copies before cleaning): body
    text and metadata (``None`` if nothing)."""
    import trafilatura

    try:
        return trafilatura.bare_extraction(
            page,
            url=url,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            include_links=False,
            favor_precision=precise,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # trafilatura/lxml raise many types on broken markup
        raise IngestError(f"cannot parse the HTML page: {exc}") from None


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
    "outlet": ("source", "outlet", "publisher"),
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
        outlet=one_line(fields["outlet"]) or None,
        url=http_url(fields["url"]),
        author=one_line(fields["author"]) or None,
        published=fields["published"] if isinstance(fields["published"], str) else None,
        language=one_line(fields["language"]) or None,
        origin=origin,
    )


# --------------------------------------------------------------------------- downloaded pages
_HTML_TYPES = {"text/html", "application/xhtml+xml"}


def parse_page(fetched: Fetched) -> Article:
    """One article from a downloaded page that is not a feed: HTML, plain text or Markdown,
    chosen by content type (an HTML page is also recognized by its first bytes).

    Raises :class:`IngestError` for other content types.

    Example:
        >>> from rag.ingest.fetch import Fetched
        >>> page = Fetched("https://news.example/a", "text/plain", "utf-8", b"Rain fell.")
        >>> parse_page(page).text
        'Rain fell.'
    """
    ctype, data, origin = fetched.content_type, fetched.data, fetched.url
    head = data[:1024].lstrip().lower()
    if ctype in _HTML_TYPES or head.startswith((b"<!doctype html", b"<html")):
        return parse_html(_html_input(data, fetched.charset), origin=origin, url=fetched.url)
    if ctype in ("text/plain", ""):
        return parse_text(decode_bytes(data, fetched.charset), origin=origin)
    if ctype in ("text/markdown", "text/x-markdown"):
        return parse_markdown(decode_bytes(data, fetched.charset), origin=origin)
    raise IngestError(f"unsupported content type {ctype!r} (expected an HTML page or a feed)")


def _html_input(data: bytes, charset: str | None) -> str | bytes:
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise IngestError("binary data, not an HTML page")
    if charset:
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return data  # trafilatura detects the page's own charset
