"""Retrieval: hybrid dense + BM25 search with date and outlet filters, and time words in questions.

Example:
    >>> from rag.retrieval import HybridRetriever
"""

from rag.lazy import exports

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "BM25Index": "lexical",
    "ChunkIndex": "lexical",
    "ChunkSource": "lexical",
    "HybridRetriever": "hybrid",
    "RECENCY_BOOST": "hybrid",
    "SearchFilters": "hybrid",
    "TimeHints": "timewords",
    "bm25_tokenize": "lexical",
    "parse_time_expressions": "timewords",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
