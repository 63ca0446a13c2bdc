"""Small file helpers shared by the model loaders, ingestion, prompts and eval suites:
hashing, package folders and YAML mappings read with a message a person can act on.

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
from typing import Any

import yaml

from rag.errors import RagError


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


def read_yaml_mapping(
    path: Path, what: str, error: type[RagError], hint: str | None = None
) -> dict[str, Any]:
    """The mapping a YAML file holds; ``error`` naming ``what`` (e.g. "suite file") when the
    file is missing (with ``hint``), is not YAML or holds something else.

    Example:
        >>> from rag.errors import ConfigError
        >>> read_yaml_mapping(Path("evals/smoke.yaml"), "suite file", ConfigError)["name"]
        'smoke'
        >>> read_yaml_mapping(Path("nope.yaml"), "suite file", ConfigError)
        Traceback (most recent call last):
        ...
        rag.errors.ConfigError: suite file not found: nope.yaml
    """
    if not path.is_file():
        raise error(f"{what} not found: {path}", hint=hint)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise error(f"{what} {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise error(f"{what} {path} must hold a mapping")
    return data
