"""Ingestion: articles from files, folders, URLs and feeds, chunked and written to the store.

Example:
    >>> from rag.ingest import Article
"""

from rag.lazy import exports

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "Article": "article",
    "ArticleChunk": "chunking",
    "Chunker": "chunking",
    "EXTENSIONS": "sources",
    "Fetched": "fetch",
    "IngestProgress": "pipeline",
    "IngestReport": "pipeline",
    "LoadFailure": "article",
    "MAX_CHARS_PER_TOKEN": "chunking",
    "MAX_TITLE_TOKENS": "chunking",
    "article_id": "article",
    "check_public_url": "fetch",
    "chunk_id": "chunking",
    "clean_text": "article",
    "content_hash": "article",
    "decode_bytes": "decoding",
    "default_token_counter": "chunking",
    "embedding_text": "chunking",
    "fetch_url": "fetch",
    "html_fragment_to_text": "formats",
    "ingest_sources": "pipeline",
    "ingest_text": "pipeline",
    "is_url": "fetch",
    "iter_feed": "feeds",
    "iter_folder": "sources",
    "iter_jsonl": "formats",
    "load_file": "sources",
    "load_source": "sources",
    "load_url": "sources",
    "looks_like_feed": "feeds",
    "parse_date": "dates",
    "parse_html": "formats",
    "parse_markdown": "formats",
    "parse_text": "formats",
    "published_int": "chunking",
    "split_text": "chunking",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
