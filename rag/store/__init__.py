"""The article store: Chroma (embedded or server) with journaled per-article writes.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.store import ArticleStore
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.store.articles import (
        GENERATION_ID,
        JOURNAL_PREFIX,
        ArticleInfo,
        ArticleStore,
        IngestProgress,
        IngestReport,
        ProgressCallback,
        StoreStats,
        metadata_hash,
    )

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "ArticleInfo": "articles",
    "ArticleStore": "articles",
    "GENERATION_ID": "articles",
    "IngestProgress": "articles",
    "IngestReport": "articles",
    "JOURNAL_PREFIX": "articles",
    "ProgressCallback": "articles",
    "StoreStats": "articles",
    "metadata_hash": "articles",
}

__all__ = [
    "GENERATION_ID",
    "JOURNAL_PREFIX",
    "ArticleInfo",
    "ArticleStore",
    "IngestProgress",
    "IngestReport",
    "ProgressCallback",
    "StoreStats",
    "metadata_hash",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
