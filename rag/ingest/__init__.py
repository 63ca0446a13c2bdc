"""Ingestion: articles from files, folders, URLs and feeds, chunked and written to the store.

Example:
    >>> from rag.ingest import Article
"""

from rag.lazy import exports

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
    "check_public_url": "documents",
    "chunk_id": "chunking",
    "clean_text": "documents",
    "content_hash": "documents",
    "decode_bytes": "documents",
    "default_token_counter": "chunking",
    "embedding_text": "chunking",
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
    "split_text": "chunking",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
