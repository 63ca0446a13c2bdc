"""URL fetching with its safety guard: public hosts only, bounded size, readable errors.

Every URL the server downloads (a page, a feed, a feed entry's link, each redirect
target) passes :func:`check_public_url` first, so a URL cannot make the server read its
own services or the cloud metadata endpoint. Responses are read within
``RAG_MAX_FILE_MB`` (compressed ones too) and ``RAG_FETCH_TIMEOUT``.

Example:
    >>> is_url("https://news.example/feed.xml"), is_url("ftp://news.example/a")
    (True, False)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from rag.errors import IngestError
from rag.ingest.decoding import max_file_bytes, too_large

if TYPE_CHECKING:
    import httpx

    from rag.settings import Settings

__all__ = [
    "DEFAULT_FETCH_TIMEOUT",
    "USER_AGENT",
    "Fetched",
    "Fetcher",
    "check_public_url",
    "fetch_timeout",
    "fetch_url",
    "http_client",
    "is_url",
]

DEFAULT_FETCH_TIMEOUT = 20.0
USER_AGENT = "news-rag/0.1 (+https://github.com/news-rag; article ingestion)"


def is_url(source: object) -> bool:
    """True for ``http://`` and ``https://`` strings (the only URLs that are fetched).

    Example:
        >>> is_url("https://a.example/x"), is_url("samples/")
        (True, False)
    """
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


def fetch_timeout(settings: Settings | None) -> float:
    """Seconds to wait for a download (``RAG_FETCH_TIMEOUT``).

    Example:
        >>> fetch_timeout(None)
        20.0
    """
    return settings.fetch_timeout if settings else DEFAULT_FETCH_TIMEOUT


def http_client(settings: Settings | None) -> httpx.Client:
    """An HTTP client with the fetch timeout and this project's User-Agent (close it after use).

    Example:
        >>> with http_client(None) as client:
        ...     client.timeout.read
        20.0
    """
    import httpx

    return httpx.Client(
        follow_redirects=True,
        timeout=fetch_timeout(settings),
        headers={"User-Agent": USER_AGENT},
    )


@dataclass(frozen=True)
class Fetched:
    """A downloaded resource: final URL (after redirects), content type, charset and bytes.

    Example:
        >>> Fetched("https://news.example/a", "text/html", "utf-8", b"<html>").content_type
        'text/html'
    """

    url: str
    content_type: str
    charset: str | None
    data: bytes


Fetcher = Callable[[str], Fetched]  # URL -> download, e.g. a feed entry's linked page

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
        >>> fetch_url("http://127.0.0.1:9/none")
        Traceback (most recent call last):
        rag.errors.IngestError: refused: 127.0.0.1 is a loopback address, not a public one
        Hint: set RAG_FETCH_ALLOW_PRIVATE=true to fetch from your own network
    """
    import httpx

    max_bytes, timeout = max_file_bytes(settings), fetch_timeout(settings)
    own = client is None
    client = client or http_client(settings)
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
        raise too_large(declared, max_bytes)
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
                    raise too_large(len(data), max_bytes)
        if decoder is not None:
            data.extend(decoder.flush())
    except zlib.error:
        raise IngestError(f"corrupt {encoding} response") from None
    if len(data) > max_bytes:
        raise too_large(len(data), max_bytes)
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
