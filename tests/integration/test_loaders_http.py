"""URL and feed loading against a real HTTP server on 127.0.0.1 serving fixture pages and feeds."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rag.ingest.article import Article, LoadFailure
from rag.ingest.locations import load_url
from rag.ingest.pipeline import ingest_locations
from rag.models.embeddings import shared_local_embeddings
from rag.settings import load_settings
from rag.store.articles import ArticleStore

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"

# path -> (fixture file, content type); feeds get {{BASE}} replaced by the server URL.
ROUTES = {
    "/port-strike.html": ("port-strike.html", "text/html; charset=utf-8"),
    "/council-budget.html": ("council-budget.html", "text/html"),
    "/nav-only.html": ("nav-only.html", "text/html"),
    "/feed.xml": ("wire-feed.xml", "application/rss+xml"),
    "/atom": ("atom-feed.xml", "application/atom+xml; charset=utf-8"),
    "/feed-as-html": ("wire-feed.xml", "text/html"),  # wrong type: the body says feed
    "/page-as-octets": ("port-strike.html", "application/octet-stream"),
}


class FixtureHandler(BaseHTTPRequestHandler):
    """Serves fixtures, plus /slow, /big, /binary, /redirect and 404 for the rest."""

    def do_GET(self) -> None:
        # The client may stop reading (size limit, timeout): that is expected here.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route()

    def _route(self) -> None:
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path in ROUTES:
            name, ctype = ROUTES[self.path]
            data = (FIXTURES / name).read_bytes().replace(b"{{BASE}}", base.encode())
            self._send(200, ctype, data)
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, "text/html", b"<html><body>late</body></html>")
        elif self.path == "/big":
            self._send(200, "text/html", b"<html><body>" + b"x" * 300_000 + b"</body></html>")
        elif self.path == "/big-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no Content-Length: the client must count while reading
            for _ in range(40):
                self.wfile.write(b"<p>" + b"y" * 10_000 + b"</p>")
            self.close_connection = True
        elif self.path == "/binary":
            self._send(200, "image/png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10)
        elif self.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/port-strike.html")
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send(404, "text/plain", b"not found")

    def _send(self, status: int, ctype: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FixtureHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def load(url: str, **settings: object) -> list[Article | LoadFailure]:
    # the fixture server is on 127.0.0.1: allow private addresses (refused by default)
    return list(load_url(url, load_settings(fetch_allow_private=True, **settings)))


def test_html_page(server: str) -> None:
    [article] = load(f"{server}/port-strike.html")
    assert isinstance(article, Article)
    assert article.title == "Port strike ends after five days as union accepts wage offer"
    assert article.url == "https://harbor.example/news/2025/03/04/port-strike-ends"  # canonical
    assert article.published == "2025-03-04" and article.outlet == "Harbor Daily"
    assert article.origin == f"{server}/port-strike.html"
    assert "NAV_MARKER" not in article.text and "ADS_MARKER" not in article.text


def test_page_without_canonical_keeps_its_own_url(server: str) -> None:
    [article] = load(f"{server}/council-budget.html")
    assert article.url == f"{server}/council-budget.html"


def test_rss_feed_with_full_entries_linked_pages_and_a_dead_link(server: str) -> None:
    items = load(f"{server}/feed.xml")
    articles = [i for i in items if isinstance(i, Article)]
    failures = [i for i in items if isinstance(i, LoadFailure)]
    assert [a.title for a in articles] == [
        "Lighthouse restoration finished after three years",
        "Port strike ends after five days as union accepts wage offer",
    ]
    lighthouse, strike = articles
    assert lighthouse.outlet == "Harbor Daily Wire" and lighthouse.published == "2025-03-10"
    assert "Ingrid Valdes" in lighthouse.text
    assert strike.text.startswith("Dock workers")  # fetched from the linked page
    assert strike.outlet == "Harbor Daily" and strike.author == "Lena Ortiz"
    [missing] = failures
    assert missing.origin == f"{server}/missing-story.html"
    assert "Missing story" in missing.reason and "HTTP 404" in missing.reason


def test_atom_feed(server: str) -> None:
    [article] = load(f"{server}/atom")
    assert article.title == "Ferry service to Tern Island resumes"
    assert article.published == "2025-02-20"


def test_content_is_sniffed_when_the_type_is_wrong(server: str) -> None:
    assert len([i for i in load(f"{server}/feed-as-html") if isinstance(i, Article)]) == 2
    [page] = load(f"{server}/page-as-octets")
    assert isinstance(page, Article) and page.title.startswith("Port strike")


def test_redirect_is_followed(server: str) -> None:
    [article] = load(f"{server}/redirect")
    assert article.origin == f"{server}/port-strike.html"


@pytest.mark.parametrize(
    ("path", "settings", "reason"),
    [
        ("/nope.html", {}, "HTTP 404"),
        ("/nav-only.html", {}, "no article body"),
        ("/slow", {"fetch_timeout": 0.5}, "timed out after 0.5 s"),
        ("/big", {"max_file_mb": 0.1}, "too large"),
        ("/big-chunked", {"max_file_mb": 0.1}, "too large"),
        ("/binary", {}, "unsupported content type 'image/png'"),
    ],
)
def test_bad_urls_are_reported(server: str, path: str, settings: dict, reason: str) -> None:
    [failure] = load(server + path, **settings)
    assert isinstance(failure, LoadFailure), failure
    assert reason in failure.reason and failure.origin.startswith(server)


def test_unreachable_host() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [failure] = load(f"http://127.0.0.1:{port}/feed.xml")
    assert failure.reason.startswith(f"cannot connect to 127.0.0.1:{port}")


def test_ingest_urls_and_feeds_into_a_real_store(server: str, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data", fetch_timeout=5, fetch_allow_private=True)
    store = ArticleStore.from_settings(settings, shared_local_embeddings())
    sources = [f"{server}/feed.xml", f"{server}/port-strike.html", f"{server}/nope", server]
    report = ingest_locations(sources, store, settings)
    # The strike page comes once from the feed and once directly: same canonical URL, one article.
    assert report.added == 2
    assert {a.title for a in store.list_articles()} == {
        "Lighthouse restoration finished after three years",
        "Port strike ends after five days as union accepts wage offer",
    }
    reasons = [reason for _, reason in report.failed]
    assert any("same article as" in r for r in reasons)
    assert any("Missing story" in r for r in reasons)
    assert sum("HTTP 404" in r for r in reasons) == 3  # dead feed link, /nope and /
    hits = store.dense_search("lighthouse reopened after restoration", k=1)
    assert hits[0][0].metadata["title"].startswith("Lighthouse")
    again = ingest_locations(sources[:2], store, settings)
    assert (again.added, again.unchanged) == (0, 2)
