"""Disk space: a full disk recognized in any error, and writes refused before they start
when an embedded store's disk is (nearly) full.

Example:
    >>> import errno
    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    True
"""

from __future__ import annotations

import contextlib
import errno
import shutil

from rag.errors import StoreError

__all__ = ["MIN_FREE_BYTES", "check_free_space", "disk_full_error", "is_disk_full"]

MIN_FREE_BYTES = 16 * 1024 * 1024  # embedded writes need room for the database and index
_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_FULL_WORDS = ("disk is full", "no space left", "disk quota exceeded")


def is_disk_full(exc: BaseException | None) -> bool:
    """True when ``exc`` (or an exception it came from) says the disk is full.

    Example:
        >>> is_disk_full(RuntimeError("database or disk is full")), is_disk_full(None)
        (True, False)
    """
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
            return True
        if any(word in str(exc).lower() for word in _FULL_WORDS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full_error(exc: BaseException, location: str, action: str) -> StoreError | None:
    """A StoreError about free space when ``exc`` means the disk is full, else None.

    Example:
        >>> disk_full_error(RuntimeError("no space left"), "/", "write articles").hint[:15]
        'free disk space'
    """
    if not is_disk_full(exc):
        return None
    free = ""
    with contextlib.suppress(OSError):
        free = f" ({shutil.disk_usage(location).free / 1e6:.0f} MB free)"
    return StoreError(
        f"could not {action} in Chroma: the disk holding {location} is full{free}",
        hint="free disk space, then ingest again (articles already stored are kept and "
        "skipped), or set RAG_DATA_DIR to a folder on a disk with more free space",
    )


def check_free_space(location: str, payload_bytes: int) -> None:
    """Refuse a write of about ``payload_bytes`` to the store at ``location`` when the disk
    lacks room for it (with margin); embedded Chroma can stall instead of failing when the
    disk fills up mid-write. An unreadable location is not checked.

    Example:
        >>> check_free_space("/", 0)  # nothing to write, room enough
        >>> check_free_space("/no/such/folder", 10**15)  # unknown: the write reports it
    """
    try:
        free = shutil.disk_usage(location).free
    except OSError:
        return
    if free < MIN_FREE_BYTES + 4 * payload_bytes:
        full = OSError(errno.ENOSPC, "No space left on device")
        raise disk_full_error(full, location, "write articles")  # type: ignore[misc]
