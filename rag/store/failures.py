"""Chroma failures as :class:`~rag.errors.StoreError` people can act on: what could not be
done, and a hint that fits the store (a server to start, a folder to fix, a disk to free).

Example:
    >>> failures = StoreFailures("server", "http://127.0.0.1:8001")
    >>> try:
    ...     with failures.during("list the articles"):
    ...         raise ConnectionError("refused")
    ... except StoreError as exc:
    ...     print(exc.message)
    could not list the articles in Chroma: ConnectionError: refused
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal
from urllib.parse import urlsplit

from rag.errors import RagError, StoreError
from rag.store.disk import disk_full_error

__all__ = ["StoreFailures"]


class StoreFailures:
    """Turns exceptions from Chroma into StoreErrors for one store (embedded or server).

    Example:
        >>> StoreFailures("embedded", "data/chroma").error("read", OSError("bad")).hint
        'check that data/chroma is writable and not damaged'
    """

    def __init__(self, mode: Literal["embedded", "server"], location: str) -> None:
        self.mode = mode
        self.location = location

    @contextlib.contextmanager
    def during(self, action: str) -> Iterator[None]:
        """Within this block, any error but a :class:`RagError` becomes a StoreError.

        Example:
            >>> with StoreFailures("embedded", "data/chroma").during("count"):
            ...     pass
        """
        try:
            yield
        except RagError:
            raise
        except Exception as exc:
            raise self.error(action, exc) from exc

    def error(self, action: str, exc: Exception) -> StoreError:
        """The StoreError saying that ``action`` failed with ``exc``.

        Example:
            >>> StoreFailures("embedded", "").error("search", OSError("x")).message
            'could not search in Chroma: OSError: x'
        """
        if self.mode == "server":
            port = urlsplit(self.location).port or 8000
            hint = (
                f"is the Chroma server at {self.location} running? Start one with: "
                f"chroma run --path DIR --host 127.0.0.1 --port {port}"
            )
        else:
            full = disk_full_error(exc, self.location, action)
            if full is not None:
                return full
            hint = f"check that {self.location or 'the Chroma folder'} is writable and not damaged"
        return StoreError(f"could not {action} in Chroma: {type(exc).__name__}: {exc}", hint=hint)
