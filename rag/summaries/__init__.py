"""Summaries: styles, map-reduce over long articles, digests and their requests, the summary
cache and the faithfulness check.

Example:
    >>> from rag.summaries import DigestRequest, Summarizer
"""

from rag.lazy import exports

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "Digest": "results",
    "DigestArticle": "results",
    "DigestRequest": "request",
    "NO_QUOTES_TEXT": "styles",
    "STYLES": "styles",
    "SourceIndex": "faithfulness",
    "StreamGate": "styles",
    "StyleSpec": "styles",
    "Summarizer": "summarizer",
    "Summary": "results",
    "SummaryCache": "cache",
    "as_prompt_data": "model_calls",
    "bullet_items": "styles",
    "check_faithfulness": "faithfulness",
    "clean_output": "styles",
    "enforce_style": "styles",
    "extract_quotations": "styles",
    "find_speakers": "styles",
    "get_style": "styles",
    "missing_quotes": "faithfulness",
    "number_quotations": "styles",
    "render_quote_choice": "styles",
    "render_quote_choices": "styles",
    "source_numbers": "faithfulness",
    "split_sections": "long_articles",
    "summary_numbers": "faithfulness",
    "unknown_names": "faithfulness",
}

__all__ = sorted(_EXPORTS)
__getattr__ = exports(__name__, _EXPORTS)
