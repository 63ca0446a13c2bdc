"""Bytes to text: files read within the size limit, text decoded whatever its encoding.

Empty files, binary data and files over ``RAG_MAX_FILE_MB`` are refused with a reason;
non-UTF-8 text (a BOM, a declared charset, Windows-1252, UTF-16 without a BOM...) is
detected and decoded.

Example:
    >>> decode_bytes("Zürich".encode("cp1252"))
    'Zürich'
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import IngestError

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = [
    "DEFAULT_MAX_FILE_MB",
    "decode_bytes",
    "max_file_bytes",
    "read_file_bytes",
    "too_large",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_FILE_MB = 20.0


def max_file_bytes(settings: Settings | None) -> int:
    """The size limit for one file or download, in bytes (``RAG_MAX_FILE_MB``).

    Example:
        >>> max_file_bytes(None) == int(DEFAULT_MAX_FILE_MB * 1024 * 1024)
        True
    """
    max_mb = settings.max_file_mb if settings else DEFAULT_MAX_FILE_MB
    return int(max_mb * 1024 * 1024)


def too_large(size: int, max_bytes: int) -> IngestError:
    """The error for a file or download of ``size`` bytes over the ``max_bytes`` limit.

    Example:
        >>> too_large(3 * 1048576, 1048576).message
        'too large: 3.0 MB, over the 1 MB limit'
    """
    return IngestError(
        f"too large: {size / 1048576:.1f} MB, over the {max_bytes / 1048576:.3g} MB limit",
        hint="raise RAG_MAX_FILE_MB to accept larger files",
    )


def read_file_bytes(path: Path, settings: Settings | None = None) -> bytes:
    """Read a file, refusing empty files and files over ``RAG_MAX_FILE_MB``.

    Example:
        >>> read_file_bytes(Path("samples/briefs.jsonl"))[:1]
        b'{'
    """
    max_bytes = max_file_bytes(settings)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise too_large(size, max_bytes)
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
