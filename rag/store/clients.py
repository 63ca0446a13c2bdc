"""Chroma clients (embedded ``PersistentClient`` or a server over HTTP) and the store's two
collections, with errors that say what to fix.

Example:
    >>> import tempfile
    >>> from rag.settings import load_settings
    >>> client, mode, location = open_client(load_settings(data_dir=tempfile.mkdtemp()))
    >>> mode
    'embedded'
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from rag.errors import StoreError
from rag.store.disk import disk_full_error
from rag.store.records import REGISTRY_SUFFIX

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from rag.settings import Settings

__all__ = ["http_client", "open_client", "open_collections", "persistent_client"]

logger = logging.getLogger(__name__)

StoreMode = Literal["embedded", "server"]


def open_client(settings: Settings) -> tuple[ClientAPI, StoreMode, str]:
    """The client settings ask for, with its mode and location: a server when
    ``RAG_CHROMA_URL`` is set, else the embedded store under ``RAG_DATA_DIR``.

    Example:
        >>> open_client(settings)[2].endswith("chroma")
        True
    """
    if settings.chroma_url:
        client = http_client(settings.chroma_url, settings.chroma_timeout)
        return client, "server", settings.chroma_url
    client = persistent_client(settings.chroma_dir)
    return client, "embedded", str(settings.chroma_dir.resolve())


def open_collections(client: ClientAPI, name: str) -> tuple[Collection, Collection]:
    """The chunk collection ``name`` (cosine space) and its article registry, created if new.

    Raises :class:`StoreError` when ``name`` is an existing collection of another distance.

    Example:
        >>> import tempfile
        >>> client = persistent_client(tempfile.mkdtemp())
        >>> chunks, registry = open_collections(client, "news")
        >>> chunks.name, registry.name
        ('news', 'news_articles')
    """
    chunks = client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )
    registry = client.get_or_create_collection(name + REGISTRY_SUFFIX, embedding_function=None)
    _check_space(chunks, name)
    return chunks, registry


def _check_space(chunks: Collection, name: str) -> None:
    try:
        space = (chunks.configuration or {}).get("hnsw", {}).get("space")
    except Exception:  # configuration shape differs across servers: skip the check
        return
    if space and space != "cosine":
        raise StoreError(
            f"collection {name!r} uses the {space!r} distance, not cosine",
            hint="choose another RAG_COLLECTION name; news-rag creates cosine collections",
        )


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False)


def _read_only(path: Path) -> bool:
    """True when the store folder (or its database file) exists but cannot be written."""
    database = path / "chroma.sqlite3"
    return (path.is_dir() and not os.access(path, os.W_OK)) or (
        database.exists() and not os.access(database, os.W_OK)
    )


def persistent_client(path: Any) -> ClientAPI:
    """An embedded Chroma client storing its files in ``path`` (created if missing).

    Raises :class:`StoreError` for a read-only folder, a full disk or a damaged store.

    Example:
        >>> import tempfile
        >>> client = persistent_client(tempfile.mkdtemp())
        >>> client.heartbeat() > 0
        True
    """
    import chromadb

    if _read_only(Path(path)):
        # Chroma writes even to open a store for reading: say so before it fails obscurely.
        raise StoreError(
            f"the embedded Chroma store at {path} is read-only (permissions or a read-only "
            "file system), and Chroma needs to write to it even to read it",
            hint="make RAG_DATA_DIR writable, copy the store to a writable folder, or set "
            "RAG_CHROMA_URL to use a Chroma server",
        )
    try:
        os.makedirs(path, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())
    except Exception as exc:
        full = disk_full_error(exc, str(path), "create the store folder")
        if full is not None:
            raise full from exc
        raise StoreError(
            f"cannot open the embedded Chroma store at {path}: {exc}",
            hint="check RAG_DATA_DIR (it must be a writable folder), or set RAG_CHROMA_URL "
            "to use a Chroma server",
        ) from exc


def http_client(url: str, timeout: float = 30.0) -> ClientAPI:
    """A client of the Chroma server at ``url`` whose requests give up after ``timeout``.

    Raises :class:`StoreError` when the server does not answer its heartbeat in time.

    Example:
        >>> http_client("http://127.0.0.1:9", timeout=1)
        Traceback (most recent call last):
        rag.errors.StoreError: cannot reach the Chroma server at http://127.0.0.1:9 ...
    """
    import chromadb
    import httpx

    parts = urlsplit(url)
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    try:
        # chromadb's client waits forever for an answer: probe first with a deadline,
        # then give its HTTP session one, so a frozen server cannot hang a request.
        httpx.get(f"{url}/api/v2/heartbeat", timeout=timeout).raise_for_status()
        client = chromadb.HttpClient(
            host=parts.hostname or "localhost", port=port, ssl=ssl, settings=_chroma_settings()
        )
        _limit_wait(client, timeout)
        client.heartbeat()
        return client
    except Exception as exc:
        raise StoreError(
            f"cannot reach the Chroma server at {url} ({type(exc).__name__}: {exc})",
            hint="start it with: chroma run --path DIR --host 127.0.0.1 "
            f"--port {port} (or unset RAG_CHROMA_URL to use the embedded store)",
        ) from exc


def _limit_wait(client: ClientAPI, timeout: float) -> None:
    """Give the Chroma HTTP client's session a timeout (it has none by default)."""
    import httpx

    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = httpx.Timeout(timeout)
    else:  # another chromadb layout: requests keep chromadb's own behaviour
        logger.debug("Cannot set a timeout on the Chroma client (%s)", type(session).__name__)
