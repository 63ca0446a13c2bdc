"""The article store: Chroma (embedded or server) with journaled per-article writes.

Example:
    >>> from rag.store import ArticleStore
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "articles": ("ArticleStore",),
    "journal": ("JOURNAL_PREFIX",),
    "records": ("GENERATION_ID", "metadata_hash"),
    "reports": ("ArticleInfo", "IngestProgress", "IngestReport", "ProgressCallback", "StoreStats"),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
