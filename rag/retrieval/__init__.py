"""Retrieval: hybrid dense + BM25 search with date and outlet filters, and time words in questions.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.retrieval import HybridRetriever
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.retrieval.hybrid import RECENCY_BOOST, HybridRetriever, SearchFilters
    from rag.retrieval.lexical import BM25Index, ChunkIndex, ChunkSource, bm25_tokenize
    from rag.retrieval.timewords import TimeHints, parse_time_expressions

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

__all__ = [
    "RECENCY_BOOST",
    "BM25Index",
    "ChunkIndex",
    "ChunkSource",
    "HybridRetriever",
    "SearchFilters",
    "TimeHints",
    "bm25_tokenize",
    "parse_time_expressions",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
