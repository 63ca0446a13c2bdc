"""Ingestion: articles from files, folders, URLs and feeds, chunked and written to the store.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.ingest import Article
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.ingest.chunking import (
        MAX_CHARS_PER_TOKEN,
        MAX_TITLE_TOKENS,
        ArticleChunk,
        Chunker,
        chunk_id,
        default_token_counter,
        embedding_text,
        estimate_tokens,
        published_int,
        sentence_spans,
        split_text,
    )
    from rag.ingest.documents import (
        EXTENSIONS,
        Article,
        Fetched,
        LoadFailure,
        article_id,
        canonical_url,
        check_public_url,
        clean_text,
        content_hash,
        decode_bytes,
        fetch_url,
        html_fragment_to_text,
        is_url,
        iter_feed,
        iter_folder,
        iter_jsonl,
        load_file,
        load_source,
        load_url,
        looks_like_feed,
        parse_date,
        parse_html,
        parse_markdown,
        parse_text,
    )
    from rag.ingest.pipeline import IngestProgress, IngestReport, ingest_sources, ingest_text

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "Article": "documents",
    "ArticleChunk": "chunking",
    "Chunker": "chunking",
    "EXTENSIONS": "documents",
    "Fetched": "documents",
    "IngestProgress": "pipeline",
    "IngestReport": "pipeline",
    "LoadFailure": "documents",
    "MAX_CHARS_PER_TOKEN": "chunking",
    "MAX_TITLE_TOKENS": "chunking",
    "article_id": "documents",
    "canonical_url": "documents",
    "check_public_url": "documents",
    "chunk_id": "chunking",
    "clean_text": "documents",
    "content_hash": "documents",
    "decode_bytes": "documents",
    "default_token_counter": "chunking",
    "embedding_text": "chunking",
    "estimate_tokens": "chunking",
    "fetch_url": "documents",
    "html_fragment_to_text": "documents",
    "ingest_sources": "pipeline",
    "ingest_text": "pipeline",
    "is_url": "documents",
    "iter_feed": "documents",
    "iter_folder": "documents",
    "iter_jsonl": "documents",
    "load_file": "documents",
    "load_source": "documents",
    "load_url": "documents",
    "looks_like_feed": "documents",
    "parse_date": "documents",
    "parse_html": "documents",
    "parse_markdown": "documents",
    "parse_text": "documents",
    "published_int": "chunking",
    "sentence_spans": "chunking",
    "split_text": "chunking",
}

__all__ = [
    "EXTENSIONS",
    "MAX_CHARS_PER_TOKEN",
    "MAX_TITLE_TOKENS",
    "Article",
    "ArticleChunk",
    "Chunker",
    "Fetched",
    "IngestProgress",
    "IngestReport",
    "LoadFailure",
    "article_id",
    "canonical_url",
    "check_public_url",
    "chunk_id",
    "clean_text",
    "content_hash",
    "decode_bytes",
    "default_token_counter",
    "embedding_text",
    "estimate_tokens",
    "fetch_url",
    "html_fragment_to_text",
    "ingest_sources",
    "ingest_text",
    "is_url",
    "iter_feed",
    "iter_folder",
    "iter_jsonl",
    "load_file",
    "load_source",
    "load_url",
    "looks_like_feed",
    "parse_date",
    "parse_html",
    "parse_markdown",
    "parse_text",
    "published_int",
    "sentence_spans",
    "split_text",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
