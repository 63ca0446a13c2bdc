"""The article store: Chroma (embedded or server) with journaled per-article writes.

Example:
    >>> from rag.store import ArticleStore
"""

from rag.lazy import exports

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

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
