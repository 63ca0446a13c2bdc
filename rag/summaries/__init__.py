"""Summaries: styles, map-reduce over long articles, digests, the summary cache and the
faithfulness check.

Public names are re-exported here and imported on first use, so importing one module
never loads the others.

Example:
    >>> from rag.summaries import Summarizer
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.summaries.cache import SummaryCache
    from rag.summaries.faithfulness import (
        SourceIndex,
        check_faithfulness,
        missing_quotes,
        source_numbers,
        summary_numbers,
        unknown_names,
    )
    from rag.summaries.styles import (
        NO_QUOTES_TEXT,
        STYLES,
        StreamGate,
        StyleSpec,
        bullet_items,
        clean_output,
        enforce_style,
        extract_quotations,
        find_speakers,
        get_style,
        number_quotations,
        render_quote_choice,
        render_quote_choices,
        split_sentences,
    )
    from rag.summaries.summarizer import (
        Digest,
        DigestArticle,
        Summarizer,
        Summary,
        as_prompt_data,
        estimate_tokens,
        split_sections,
    )

# public name -> the submodule that defines it
_EXPORTS: dict[str, str] = {
    "Digest": "summarizer",
    "DigestArticle": "summarizer",
    "NO_QUOTES_TEXT": "styles",
    "STYLES": "styles",
    "SourceIndex": "faithfulness",
    "StreamGate": "styles",
    "StyleSpec": "styles",
    "Summarizer": "summarizer",
    "Summary": "summarizer",
    "SummaryCache": "cache",
    "as_prompt_data": "summarizer",
    "bullet_items": "styles",
    "check_faithfulness": "faithfulness",
    "clean_output": "styles",
    "enforce_style": "styles",
    "estimate_tokens": "summarizer",
    "extract_quotations": "styles",
    "find_speakers": "styles",
    "get_style": "styles",
    "missing_quotes": "faithfulness",
    "number_quotations": "styles",
    "render_quote_choice": "styles",
    "render_quote_choices": "styles",
    "source_numbers": "faithfulness",
    "split_sections": "summarizer",
    "split_sentences": "styles",
    "summary_numbers": "faithfulness",
    "unknown_names": "faithfulness",
}

__all__ = [
    "NO_QUOTES_TEXT",
    "STYLES",
    "Digest",
    "DigestArticle",
    "SourceIndex",
    "StreamGate",
    "StyleSpec",
    "Summarizer",
    "Summary",
    "SummaryCache",
    "as_prompt_data",
    "bullet_items",
    "check_faithfulness",
    "clean_output",
    "enforce_style",
    "estimate_tokens",
    "extract_quotations",
    "find_speakers",
    "get_style",
    "missing_quotes",
    "number_quotations",
    "render_quote_choice",
    "render_quote_choices",
    "source_numbers",
    "split_sections",
    "split_sentences",
    "summary_numbers",
    "unknown_names",
]


def __getattr__(name: str) -> Any:
    # Lazy: importing the package stays cheap and has no side effects.
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
