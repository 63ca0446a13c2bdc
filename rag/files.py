"""Small file helpers shared by the model loaders and ingestion: hashing and package folders.

Example:
    >>> from rag.files import package_dir
    >>> package_dir("no_such_package_here") is None
    True
"""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path


def package_dir(package: str) -> Path | None:
    """Folder of an installed top-level package, found without importing it.

    Example:
        >>> package_dir("no_such_package_here") is None
        True
    """
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return Path(spec.origin).parent if spec.origin else None


def sha256_file(
    path: Path,
    chunk_bytes: int = 1 << 22,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Hex sha256 of a file, read in chunks; ``progress(done, total)`` after each chunk.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "x"; _ = p.write_bytes(b"abc")
        >>> sha256_file(p)[:8]
        'ba7816bf'
    """
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with open(path, "rb") as handle:
        while block := handle.read(chunk_bytes):
            digest.update(block)
            done += len(block)
            if progress:
                progress(done, total)
    return digest.hexdigest()
