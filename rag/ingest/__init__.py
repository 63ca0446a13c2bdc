"""Ingestion: articles from files, folders, URLs and feeds, chunked and written to the store.

Example:
    >>> from rag.ingest import Article
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "article": ("Article", "LoadFailure", "article_id", "clean_text", "content_hash"),
    "chunking": (
        "ArticleChunk",
        "Chunker",
        "MAX_CHARS_PER_TOKEN",
        "MAX_TITLE_TOKENS",
        "chunk_id",
        "default_token_counter",
        "embedding_text",
        "published_int",
        "split_text",
    ),
    "dates": ("parse_date",),
    "decoding": ("decode_bytes",),
    "feeds": ("iter_feed", "looks_like_feed"),
    "fetch": ("Fetched", "check_public_url", "fetch_url", "is_url"),
    "formats": (
        "html_fragment_to_text",
        "iter_jsonl",
        "parse_html",
        "parse_markdown",
        "parse_text",
    ),
    "locations": (
        "EXTENSIONS",
        "iter_folder",
        "load_file",
        "load_location",
        "load_source",
        "load_url",
    ),
    "pipeline": (
        "IngestProgress",
        "IngestReport",
        "ingest_locations",
        "ingest_sources",
        "ingest_text",
    ),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
