"""The article store: Chroma (embedded or server) with journaled per-article writes.

Example:
    >>> from rag.store import ArticleStore
"""

from rag.lazy import exports

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "ArticleInfo": "reports",
    "ArticleStore": "articles",
    "GENERATION_ID": "records",
    "IngestProgress": "reports",
    "IngestReport": "reports",
    "JOURNAL_PREFIX": "journal",
    "ProgressCallback": "reports",
    "StoreStats": "reports",
    "metadata_hash": "records",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
