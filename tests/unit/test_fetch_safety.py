"""URL fetching is safe by default: no private, loopback or link-local hosts (also after a
redirect or through DNS), and a compressed response cannot expand past the size limit.

Everything runs against ``httpx.MockTransport``: no network.
"""

from __future__ import annotations

import gzip
import socket
import tracemalloc
import zlib
from typing import Any

import httpx
import pytest

from rag.errors import IngestError
from rag.ingest.article import Article, LoadFailure
from rag.ingest.fetch import check_public_url, fetch_url
from rag.ingest.locations import load_url
from rag.settings import load_settings

pytestmark = pytest.mark.unit

PAGE = (
    "<html><head><title>Ferry vote</title></head><body><article><p>"
    + "Workers on the Northbridge ferries voted to accept a new contract on Thursday. " * 5
    + "</p></article></body></html>"
).encode()


def client(routes: dict[str, httpx.Response], seen: list[str] | None = None) -> httpx.Client:
    """A client whose server answers from ``routes`` (URL -> response), 404 otherwise."""

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(str(request.url))
        canned = routes.get(str(request.url))
        if canned is None:
            return httpx.Response(404)
        # a fresh, unread body each time, as from a real connection
        return httpx.Response(
            canned.status_code,
            headers=canned.headers,
            stream=canned.stream,  # the raw body, never decoded here
        )

    return httpx.Client(transport=httpx.MockTransport(handle))


def public_dns(monkeypatch: pytest.MonkeyPatch, table: dict[str, str]) -> None:
    """Resolve names from ``table`` (name -> IP); anything else is 93.184.216.34."""

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        address = table.get(host, "93.184.216.34")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:8000/feed.xml", "loopback"),
        ("http://127.8.9.10/", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://localhost:7860/config", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://10.0.0.5/", "private"),
        ("http://172.16.3.4/", "private"),
        ("http://192.168.1.1/admin", "private"),
        ("http://[fd00::1]/", "private"),
        ("http://100.64.0.1/", "private"),
        ("http://0.0.0.0:7860/", "reserved"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://intranet.example/", "private"),
        ("http://rebind.example/", "loopback"),
    ],
)
def test_non_public_hosts_are_refused_by_default(
    monkeypatch: pytest.MonkeyPatch, url: str, kind: str
) -> None:
    public_dns(
        monkeypatch,
        {"localhost": "127.0.0.1", "intranet.example": "10.1.2.3", "rebind.example": "::1"},
    )
    seen: list[str] = []
    with pytest.raises(IngestError, match=f"is a {kind} address") as info:
        fetch_url(url, None, client({}, seen))
    assert "RAG_FETCH_ALLOW_PRIVATE" in (info.value.hint or "")
    assert seen == [], "nothing was requested"
    [failure] = list(load_url(url, load_settings(), client({})))
    assert isinstance(failure, LoadFailure) and "refused" in failure.reason


def test_public_hosts_are_fetched(monkeypatch: pytest.MonkeyPatch) -> None:
    public_dns(monkeypatch, {})
    routes = {
        "https://news.example/ferry": httpx.Response(
            200, content=PAGE, headers={"content-type": "text/html"}
        )
    }
    [article] = list(load_url("https://news.example/ferry", load_settings(), client(routes)))
    assert isinstance(article, Article) and article.title == "Ferry vote"


def test_the_setting_allows_private_addresses() -> None:
    routes = {
        "http://127.0.0.1:8000/ferry": httpx.Response(
            200, content=PAGE, headers={"content-type": "text/html"}
        )
    }
    allowed = load_settings(fetch_allow_private=True)
    check_public_url("http://127.0.0.1:8000/ferry", allowed)
    [article] = list(load_url("http://127.0.0.1:8000/ferry", allowed, client(routes)))
    assert isinstance(article, Article)


def test_a_redirect_to_a_private_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    public_dns(monkeypatch, {})
    seen: list[str] = []
    routes = {
        "https://news.example/story": httpx.Response(
            302, headers={"location": "http://169.254.169.254/latest/meta-data/"}
        ),
        "http://169.254.169.254/latest/meta-data/": httpx.Response(200, content=b"secret"),
    }
    with pytest.raises(IngestError, match=r"169\.254\.169\.254 is a link-local address"):
        fetch_url("https://news.example/story", None, client(routes, seen))
    assert seen == ["https://news.example/story"]


def test_redirects_are_followed_between_public_hosts_and_capped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public_dns(monkeypatch, {})
    routes = {
        "https://a.example/": httpx.Response(301, headers={"location": "/moved"}),
        "https://a.example/moved": httpx.Response(302, headers={"location": "https://b.example/x"}),
        "https://b.example/x": httpx.Response(
            200, content=PAGE, headers={"content-type": "text/html"}
        ),
        "https://loop.example/": httpx.Response(302, headers={"location": "https://loop.example/"}),
        "https://ftp.example/": httpx.Response(302, headers={"location": "file:///etc/passwd"}),
    }
    fetched = fetch_url("https://a.example/", None, client(routes))
    assert fetched.url == "https://b.example/x" and fetched.data == PAGE
    with pytest.raises(IngestError, match="too many redirects"):
        fetch_url("https://loop.example/", None, client(routes))
    with pytest.raises(IngestError, match="non-http"):
        fetch_url("https://ftp.example/", None, client(routes))


def test_feed_links_to_private_addresses_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    public_dns(monkeypatch, {})
    feed = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        b"<item><title>Local</title><link>http://127.0.0.1:7860/config</link></item>"
        b"</channel></rss>"
    )
    routes = {
        "https://wire.example/feed.xml": httpx.Response(
            200, content=feed, headers={"content-type": "application/rss+xml"}
        )
    }
    [failure] = list(load_url("https://wire.example/feed.xml", load_settings(), client(routes)))
    assert isinstance(failure, LoadFailure)
    assert "127.0.0.1 is a loopback address" in failure.reason


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_stops_at_the_size_limit(
    monkeypatch: pytest.MonkeyPatch, encoding: str
) -> None:
    public_dns(monkeypatch, {})
    payload = b"<html><body><p>" + b"A" * (256 * 1024 * 1024)
    body = gzip.compress(payload, 9) if encoding == "gzip" else zlib.compress(payload, 9)
    del payload
    routes = {
        "https://bomb.example/": httpx.Response(
            200, content=body, headers={"content-encoding": encoding, "content-type": "text/html"}
        )
    }
    tracemalloc.start()
    try:
        with pytest.raises(IngestError, match="too large") as info:
            fetch_url("https://bomb.example/", load_settings(max_file_mb=2), client(routes))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "over the 2 MB limit" in info.value.message
    assert peak < 20 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"


def test_compressed_pages_still_load(monkeypatch: pytest.MonkeyPatch) -> None:
    public_dns(monkeypatch, {})
    routes = {
        "https://news.example/gz": httpx.Response(
            200,
            content=gzip.compress(PAGE),
            headers={"content-encoding": "gzip", "content-type": "text/html"},
        ),
        "https://news.example/br": httpx.Response(
            200, stream=httpx.ByteStream(b"??"), headers={"content-encoding": "br"}
        ),
        "https://news.example/bad": httpx.Response(
            200, stream=httpx.ByteStream(b"not gzip"), headers={"content-encoding": "gzip"}
        ),
    }
    assert fetch_url("https://news.example/gz", None, client(routes)).data == PAGE
    with pytest.raises(IngestError, match="unsupported content encoding 'br'"):
        fetch_url("https://news.example/br", None, client(routes))
    with pytest.raises(IngestError, match="corrupt gzip response"):
        fetch_url("https://news.example/bad", None, client(routes))
