"""Loaders and the Article model: formats, metadata, dates, ids and every bad-input case."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from rag.errors import IngestError
from rag.ingest.article import (
    Article,
    LoadFailure,
    article_id,
    clean_text,
    content_hash,
)
from rag.ingest.dates import parse_date
from rag.ingest.decoding import decode_bytes
from rag.ingest.feeds import iter_feed, looks_like_feed
from rag.ingest.fetch import Fetched
from rag.ingest.formats import (
    html_fragment_to_text,
    iter_jsonl,
    parse_html,
    parse_markdown,
    parse_text,
)
from rag.ingest.locations import iter_folder, load_file, load_location
from rag.settings import load_settings
from rag.text import canonical_url

pytestmark = pytest.mark.unit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
BODY = (
    "The regional ferry company added two evening crossings on Friday after a month of "
    "complaints from commuters about crowded boats and missed connections at the harbour."
)


def _only(items: list) -> Article:
    assert len(items) == 1, items
    assert isinstance(items[0], Article), items[0]
    return items[0]


def _failure(items: list) -> LoadFailure:
    assert len(items) == 1, items
    assert isinstance(items[0], LoadFailure), items[0]
    return items[0]


# --------------------------------------------------------------------------- model and ids
def test_article_create_cleans_text_and_computes_ids() -> None:
    article = Article.create(
        title="  Ferry   times change ",
        text="\ufeffLine one.\r\n\r\n\r\n\r\nLine  two.\t ",
        url="HTTPS://Ferry.Example/news?utm_source=rss&id=4#top",
        published="2025-02-14T09:30:00Z",
        language="EN",
    )
    assert article.title == "Ferry times change"
    assert article.text == "Line one.\n\nLine two."
    assert article.url == "https://ferry.example/news?id=4"
    assert article.published == "2025-02-14"
    assert article.language == "en"
    assert len(article.id) == 16 and len(article.content_hash) == 64


def test_id_comes_from_url_when_present_else_from_text() -> None:
    a = Article.create(title="A", text="First version.", url="https://x.example/story")
    b = Article.create(
        title="A", text="Second version.", url="https://x.example/story?utm_medium=x"
    )
    assert a.id == b.id and a.content_hash != b.content_hash
    c = Article.create(title="A", text="Same   text here.")
    d = Article.create(title="Other title", text="Same text here.")
    assert c.id == d.id == article_id("Same text here.")
    assert c.content_hash != d.content_hash


def test_content_hash_ignores_whitespace_only() -> None:
    assert content_hash("Title", "a b\nc") == content_hash("Title ", "a  b c")
    assert content_hash("Title", "a b") != content_hash("Title", "a B")


def test_empty_text_is_refused() -> None:
    with pytest.raises(IngestError, match="no text"):
        Article.create(title="T", text=" \n\t ")


def test_missing_title_becomes_first_sentence() -> None:
    assert Article.create(title="", text="Storm hits coast. Rain follows.").title == (
        "Storm hits coast."
    )


def test_canonical_url_keeps_meaningful_parts() -> None:
    assert canonical_url("http://a.example:80/x/?b=2&fbclid=z") == "http://a.example/x/?b=2"
    assert canonical_url("https://a.example:8443/y") == "https://a.example:8443/y"


def test_published_must_be_iso() -> None:
    with pytest.raises(ValueError):
        Article(id="x", title="t", text="b", content_hash="h", published="14/02/2025")


# --------------------------------------------------------------------------- dates
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-02-14", "2025-02-14"),
        ("2025-02-14T23:59:00-05:00", "2025-02-14"),
        ("February 14, 2025", "2025-02-14"),
        ("14 Feb 2025 10:00 CET", "2025-02-14"),
        ("Fri, 14 Feb 2025 09:00:00 +0000", "2025-02-14"),
        ("February 2025", None),  # no day: never invented
        ("2025", None),
        ("14 February", None),  # no year
        ("yesterday", None),
        ("2025-02-30", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value: str | None, expected: str | None) -> None:
    assert parse_date(value) == expected


def test_parse_date_from_struct_time_and_date_objects() -> None:
    from datetime import date, datetime

    assert parse_date(time.strptime("2024-11-07", "%Y-%m-%d")) == "2024-11-07"
    assert parse_date(date(2024, 1, 2)) == "2024-01-02"
    assert parse_date(datetime(2024, 1, 2, 23, 0)) == "2024-01-02"


# --------------------------------------------------------------------------- text
def test_text_with_header_lines() -> None:
    article = parse_text(
        "Title: Ferry times change\nSource: Harbor Daily\nDate: 2025-03-01\n"
        "URL: https://harbor.example/ferry\nAuthor: Sam Idris\nLanguage: en\n\n" + BODY,
        origin="ferry.txt",
    )
    assert (article.title, article.outlet, article.published, article.author) == (
        "Ferry times change",
        "Harbor Daily",
        "2025-03-01",
        "Sam Idris",
    )
    assert article.url == "https://harbor.example/ferry"
    assert article.language == "en"
    assert article.text == BODY
    assert article.origin == "ferry.txt"


def test_text_title_line_then_headers() -> None:
    article = parse_text("Ferry times change\nSource: Harbor Daily\n\n" + BODY)
    assert article.title == "Ferry times change" and article.outlet == "Harbor Daily"
    assert article.text == BODY


def test_text_first_line_title() -> None:
    article = parse_text("Ferry times change\n\n" + BODY + "\n\nSecond paragraph.")
    assert article.title == "Ferry times change"
    assert article.text.startswith("The regional ferry") and article.published is None


def test_text_without_title_uses_default() -> None:
    article = parse_text(BODY, default_title="Ferry news")
    assert article.title == "Ferry news" and article.text == BODY


def test_text_header_only_is_refused() -> None:
    with pytest.raises(IngestError, match="no text after the header"):
        parse_text("Title: Just a title\nDate: 2025-01-01\n")


def test_text_with_unparseable_date_keeps_no_date() -> None:
    assert parse_text("Title: T\nDate: sometime soon\n\n" + BODY).published is None


# --------------------------------------------------------------------------- markdown
def test_markdown_front_matter() -> None:
    article = parse_markdown(
        '---\ntitle: "Ferry: new times"\nsource: Harbor Daily\ndate: 2025-03-01\n'
        "authors: [Sam Idris, Ana Ruiz]\nurl: https://harbor.example/ferry\n---\n\n" + BODY
    )
    assert article.title == "Ferry: new times"
    assert article.published == "2025-03-01"  # YAML parsed it to a date object
    assert article.author == "Sam Idris, Ana Ruiz"
    assert article.text == BODY


def test_markdown_heading_is_the_title() -> None:
    article = parse_markdown("# Ferry times change\n\n" + BODY + "\n\n## Reactions\n\nGood.")
    assert article.title == "Ferry times change"
    assert article.text.startswith("The regional ferry") and "## Reactions" in article.text


def test_markdown_front_matter_title_and_same_heading() -> None:
    article = parse_markdown("---\ntitle: Ferry\n---\n# Ferry\n\n" + BODY)
    assert article.title == "Ferry" and article.text == BODY


def test_markdown_malformed_front_matter() -> None:
    with pytest.raises(IngestError, match="malformed YAML front matter"):
        parse_markdown("---\ntitle: [unclosed\n---\n" + BODY)


# --------------------------------------------------------------------------- HTML
def test_html_page_body_and_metadata() -> None:
    article = parse_html((FIXTURES / "port-strike.html").read_bytes(), origin="page.html")
    assert article.title == "Port strike ends after five days as union accepts wage offer"
    assert article.outlet == "Harbor Daily"
    assert article.author == "Lena Ortiz"
    assert article.published == "2025-03-04"
    assert article.url == "https://harbor.example/news/2025/03/04/port-strike-ends"
    assert article.language == "en"
    assert article.text.startswith("Dock workers at the city's main container port")
    assert "Tidewater Logistics" in article.text
    for marker in ("NAV_MARKER", "ADS_MARKER", "SCRIPT_MARKER", "FOOTER_MARKER", "trackingId"):
        assert marker not in article.text
    assert "\n\n" in article.text  # paragraphs kept


def test_html_metadata_declared_only_in_json_ld() -> None:
    # Many publishers declare a story's facts in schema.org JSON-LD and no <meta> tags.
    page = (
        '<html lang="en"><head><title>Ferry fares rise | Site</title>'
        '<script type="application/ld+json">{"@context": "https://schema.org",'
        ' "@type": "NewsArticle", "headline": "Ferry fares rise by a tenth in spring",'
        ' "datePublished": "2025-03-04T23:10:00-05:00",'
        ' "author": {"@type": "Person", "name": "Ines Alvarez"},'
        ' "publisher": {"@type": "Organization", "name": "Harbor Daily"}}</script>'
        '<link rel="canonical" href="https://harbor.example/news/ferry-fares"></head>'
        f"<body><article><h1>Ferry fares rise</h1><p>{BODY}</p><p>{BODY}</p></article>"
        "</body></html>"
    )
    article = parse_html(page.encode(), origin="page.html")
    assert article.title == "Ferry fares rise by a tenth in spring"
    assert (article.outlet, article.author) == ("Harbor Daily", "Ines Alvarez")
    assert article.published == "2025-03-04"  # the publisher's own day, not UTC's
    assert article.url == "https://harbor.example/news/ferry-fares"


def test_html_lede_without_its_own_paragraph_is_kept() -> None:
    # The lede shares a <p> with a "related content" box, so it has no opening <p> of its
    # own once parsed: it was dropped, and the key sentence of the story with it.
    article = parse_html((FIXTURES / "sea-wall-lede.html").read_bytes(), origin="page.html")
    assert article.text.startswith("QUAYMOUTH (Harbour Wire) — Voters in Quaymouth approved")
    assert article.text.split("\n\n")[1].startswith("The plan passed with 61 percent")
    for boilerplate in ("Related Content", "Play Video", "Most popular", "Copyright"):
        assert boilerplate not in article.text
    assert article.author == "Ana Ruiz" and article.published == "2011-08-24"


def test_html_without_date_has_no_date() -> None:
    article = parse_html((FIXTURES / "council-budget.html").read_text())
    assert article.published is None and article.title == "Council passes budget with transit boost"


def test_html_date_in_body_text_is_not_taken_as_publication_date() -> None:
    page = (
        "<html><head><title>Program ends</title></head><body><article><p>"
        "On 12 January 2024 the ministry said the program would end next year. "
        * 3
        + "</p></article></body></html>"
    )
    assert parse_html(page).published is None


PORTAL_PAGE = (
    '<html><head><meta property="og:title" content="Daily Planet - Latest News &amp; Headlines">'
    "<title>Ferry service resumes after storm damage - Daily Planet</title></head><body>"
    "<h1>Ferry service resumes after storm damage</h1><article><p>"
    + "Ferry service between Quaymouth and Lisle resumed on Monday after storm damage "
    "to the pier was repaired, the harbour authority said. " * 3 + "</p></article></body></html>"
)


def test_html_headline_replaces_a_site_title_in_the_metadata() -> None:
    article = parse_html(PORTAL_PAGE)
    assert article.title == "Ferry service resumes after storm damage"
    assert article.text.startswith("Ferry service between Quaymouth and Lisle resumed")


def test_html_metadata_title_that_names_the_story_is_kept() -> None:
    page = PORTAL_PAGE.replace("Daily Planet - Latest News &amp; Headlines", "Lisle ferries back")
    assert parse_html(page).title == "Lisle ferries back"


def test_html_date_declared_by_the_publisher_beats_the_url_date() -> None:
    """A print-edition URL carries the next day; the page's own tag says when it ran."""
    page = PORTAL_PAGE.replace(
        "</head>",
        '<link rel="canonical" href="https://news.example/2016/07/30/ferry-resumes.html">'
        '<meta property="article:published" itemprop="datePublished" '
        'content="2016-07-29T22:42:34-04:00"></head>',
    )
    assert parse_html(page).published == "2016-07-29"


def test_html_without_article_body_is_refused() -> None:
    with pytest.raises(IngestError, match="no article body"):
        parse_html((FIXTURES / "nav-only.html").read_text())


def test_html_fragment_to_text() -> None:
    text = html_fragment_to_text("<p>One <b>two</b>.</p><script>bad()</script><p>Three</p>")
    assert text == "One two.\n\nThree"


# --------------------------------------------------------------------------- JSONL
def test_jsonl_good_and_bad_lines() -> None:
    lines = [
        json.dumps({"title": "A", "text": BODY, "outlet": "Wire", "date": "2025-01-02"}),
        "{not json",
        json.dumps(["a", "list"]),
        "",
        json.dumps({"title": "No text"}),
        json.dumps({"headline": "B", "body": BODY + " Two.", "authors": ["X", "Y"]}),
        json.dumps({"title": 5, "text": "t"}),
    ]
    items = list(iter_jsonl("\n".join(lines), origin="feed.jsonl"))
    articles = [i for i in items if isinstance(i, Article)]
    failures = [i for i in items if isinstance(i, LoadFailure)]
    assert [a.title for a in articles] == ["A", "B"]
    assert articles[0].outlet == "Wire" and articles[0].published == "2025-01-02"
    assert articles[0].origin == "feed.jsonl:1"
    assert articles[1].author == "X, Y"
    assert [f.reason.split(":")[0] for f in failures] == ["line 2", "line 3", "line 5", "line 7"]
    assert "invalid JSON" in failures[0].reason
    assert "not a JSON object" in failures[1].reason
    assert "missing text" in failures[2].reason
    assert all(f.origin == "feed.jsonl" for f in failures)


def test_jsonl_empty() -> None:
    assert _failure(list(iter_jsonl("\n \n", origin="e.jsonl"))).reason == "empty file"


# --------------------------------------------------------------------------- feeds (offline)
def _feed_bytes() -> bytes:
    return (FIXTURES / "wire-feed.xml").read_text().replace("{{BASE}}", "http://feed.test").encode()


def test_feed_entries_full_content_and_fetched_links() -> None:
    pages = {"http://feed.test/port-strike.html": (FIXTURES / "port-strike.html").read_bytes()}
    fetched: list[str] = []

    def fetch(url: str) -> Fetched:
        fetched.append(url)
        if url not in pages:
            raise IngestError("HTTP 404 Not Found")
        return Fetched(url=url, content_type="text/html", charset="utf-8", data=pages[url])

    items = list(iter_feed(_feed_bytes(), origin="feed", fetch=fetch))
    lighthouse, strike, missing = items
    assert isinstance(lighthouse, Article) and isinstance(strike, Article)
    assert lighthouse.title == "Lighthouse restoration finished after three years"
    assert lighthouse.outlet == "Harbor Daily Wire" and lighthouse.published == "2025-03-10"
    assert lighthouse.author == "Sam Idris" and "Ingrid Valdes" in lighthouse.text
    assert strike.text.startswith("Dock workers") and strike.published == "2025-03-04"
    assert isinstance(missing, LoadFailure) and "HTTP 404" in missing.reason
    assert "Missing story" in missing.reason
    assert fetched == ["http://feed.test/port-strike.html", "http://feed.test/missing-story.html"]


def test_atom_feed() -> None:
    article = _only(list(load_file(FIXTURES / "atom-feed.xml")))
    assert article.title == "Ferry service to Tern Island resumes"
    assert article.published == "2025-02-20" and article.author == "Priya Hale"
    assert article.outlet == "Valley Courier" and "Tomas Reyes" in article.text


def test_not_a_feed() -> None:
    failure = _failure(list(iter_feed(b"<html><body>hello</body></html>", origin="x.xml")))
    assert "not an RSS/Atom feed" in failure.reason


def test_looks_like_feed() -> None:
    assert looks_like_feed(b'\xef\xbb\xbf<?xml version="1.0"?>\n<feed xmlns="x">')
    assert not looks_like_feed(b"<!doctype html><html>")


# --------------------------------------------------------------------------- files: bad input
def test_empty_and_blank_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text(" \n\n \t\n")
    assert _failure(list(load_file(tmp_path / "empty.txt"))).reason == "empty file"
    assert _failure(list(load_file(tmp_path / "blank.md"))).reason == "empty file"


def test_binary_files(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    (tmp_path / "image.txt").write_bytes(png)
    (tmp_path / "page.html").write_bytes(png)
    (tmp_path / "controls.md").write_bytes(bytes(range(1, 32)) * 50)
    for name in ("image.txt", "page.html", "controls.md"):
        assert "binary" in _failure(list(load_file(tmp_path / name))).reason, name


def test_size_limit(tmp_path: Path) -> None:
    settings = load_settings(max_file_mb=0.001)  # about 1 KB
    (tmp_path / "big.txt").write_text("Title: Big\n\n" + "word " * 400)
    reason = _failure(list(load_file(tmp_path / "big.txt", settings))).reason
    assert "too large" in reason and "limit" in reason
    (tmp_path / "small.txt").write_text("Title: Small\n\n" + BODY)
    assert _only(list(load_file(tmp_path / "small.txt", settings))).title == "Small"


def test_non_utf8_text_is_detected_and_decoded(tmp_path: Path) -> None:
    text = (
        "Title: Café prices in Zürich\n\nLes élèves français étudient à l'école près du "
        "café. Prices rose again this week, déjà the third rise, said the Crémerie owner."
    )
    (tmp_path / "latin.txt").write_bytes(text.encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes(text.encode("utf-16"))
    for name in ("latin.txt", "utf16.txt"):
        article = _only(list(load_file(tmp_path / name)))
        assert article.title == "Café prices in Zürich" and "élèves" in article.text


def test_undecodable_bytes_are_refused() -> None:
    with pytest.raises(IngestError):
        decode_bytes(random.Random(7).randbytes(4000).replace(b"\x00", b"\x01"))


def test_unsupported_and_missing_files(tmp_path: Path) -> None:
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7")
    assert (
        "unsupported file type '.pdf'" in _failure(list(load_file(tmp_path / "report.pdf"))).reason
    )
    assert _failure(list(load_location(tmp_path / "nope.txt"))).reason == "no such file or folder"
    assert "unsupported URL scheme" in _failure(list(load_location("ftp://x.example/a.txt"))).reason


def test_html_file_without_body_reports_reason(tmp_path: Path) -> None:
    failure = _failure(list(load_file(FIXTURES / "nav-only.html")))
    assert "no article body" in failure.reason and failure.origin.endswith("nav-only.html")


# --------------------------------------------------------------------------- folders
def test_folder_is_read_recursively_by_extension(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Title: A\n\n" + BODY)
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "b.md").write_text("# B\n\n" + BODY + " B.")
    (tmp_path / "sub" / "deeper" / "c.jsonl").write_text(
        json.dumps({"title": "C", "text": BODY + " C."})
    )
    (tmp_path / "sub" / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "README.md").write_text("# About this folder\n\nNot an article at all, really.")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "d.txt").write_text("Title: D\n\n" + BODY)
    names = [p.name for p in iter_folder(tmp_path)]
    assert names == ["a.txt", "b.md", "c.jsonl"]
    titles = [a.title for a in load_location(tmp_path) if isinstance(a, Article)]
    assert titles == ["A", "B", "C"]


def test_clean_text_removes_controls_and_extra_blank_lines() -> None:
    assert clean_text("a\x00b\u200b c\n\n\n\nd  ") == "ab c\n\nd"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Zürich", "cp1252"),
        ("The “quoted” price was €5 – a rise.", "cp1252"),
        ("Zürich is a city in Switzerland. Café prices rose.", "cp1252"),
        (
            "Les élèves sont à l'école. Le maire a déclaré que la réforme était nécessaire.",
            "cp1252",
        ),
        ("Москва заявила, что переговоры продолжатся на следующей неделе в Эр-Рияде.", "cp1251"),
        (
            "Łódź i Kraków: władze miasta ogłosiły, że nowy most zostanie otwarty w przyszłym "
            "roku. Źródła podają, że koszt wyniósł dużo.",
            "cp1250",
        ),
    ],
)
def test_legacy_encodings_decode_to_the_original_text(text, encoding):
    assert decode_bytes(text.encode(encoding)) == text
