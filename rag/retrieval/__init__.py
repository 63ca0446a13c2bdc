"""Retrieval: hybrid dense + BM25 search with date and outlet filters, and time words in questions.

Example:
    >>> from rag.retrieval import HybridRetriever
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "hybrid": ("HybridRetriever", "RECENCY_BOOST", "SearchFilters"),
    "lexical": ("BM25Index", "ChunkIndex", "ChunkSource", "bm25_tokenize"),
    "timewords": ("TimeHints", "parse_time_expressions"),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
