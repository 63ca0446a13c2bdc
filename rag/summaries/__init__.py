"""Summaries: styles, map-reduce over long articles, digests and their requests, the summary
cache and the faithfulness check.

Example:
    >>> from rag.summaries import DigestRequest, Summarizer
"""

from rag.lazy import exported_names, exports

# submodule -> the public names it defines
_EXPORTS: dict[str, tuple[str, ...]] = {
    "cache": ("SummaryCache",),
    "faithfulness": (
        "SourceIndex",
        "check_faithfulness",
        "missing_quotes",
        "source_numbers",
        "summary_numbers",
        "unknown_names",
    ),
    "long_articles": ("split_sections",),
    "model_calls": ("as_prompt_data",),
    "request": ("DigestRequest",),
    "results": ("Digest", "DigestArticle", "Summary"),
    "styles": (
        "NO_QUOTES_TEXT",
        "STYLES",
        "StreamGate",
        "StyleSpec",
        "bullet_items",
        "clean_output",
        "enforce_style",
        "extract_quotations",
        "find_speakers",
        "get_style",
        "number_quotations",
        "render_quote_choice",
        "render_quote_choices",
    ),
    "summarizer": ("Summarizer",),
}

__all__ = exported_names(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
