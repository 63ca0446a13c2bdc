"""Turn answers, sources, summaries and library reports into safe Markdown for the app.

Everything that comes from an article or from the model (titles, passages, answers) is
escaped (:mod:`rag.ui.format.markdown`), so it is displayed as text, never interpreted.
Answers and their sources are rendered by :mod:`rag.ui.format.answers`, summaries and
digests by :mod:`rag.ui.format.summaries`, the Library's lists and reports by
:mod:`rag.ui.format.library`; :mod:`rag.ui.format.jsonable` shapes results as the API's JSON.

Example:
    >>> from rag.ui import format as fmt
    >>> fmt.format_partial("<b>NATO</b>")
    '&lt;b&gt;NATO&lt;/b&gt; ▌'
"""

from __future__ import annotations

from rag.text import parse_day, parse_range
from rag.ui.format.answers import (
    ABSTAIN_TITLE,
    FLAG_NOTES,
    PASSAGE_CHARS,
    answer_notes,
    cited_passages,
    count_articles,
    format_answer,
    format_found,
    format_partial,
    format_passages,
    is_abstention,
    link_markers,
    passage_excerpt,
)
from rag.ui.format.jsonable import answer_to_dict, to_jsonable
from rag.ui.format.library import (
    ARTICLE_COLUMNS,
    article_label,
    article_rows,
    format_counts,
    format_describe,
    format_report,
    outlet_choices,
)
from rag.ui.format.markdown import escape_block, escape_md, safe_url
from rag.ui.format.summaries import (
    digest_markdown,
    format_article_header,
    format_digest,
    format_summary,
    summary_header,
    summary_markdown,
)

# old names, for older callers
cited_sources = cited_passages
format_sources = format_passages
source_choices = outlet_choices

__all__ = [
    "ABSTAIN_TITLE",
    "ARTICLE_COLUMNS",
    "FLAG_NOTES",
    "PASSAGE_CHARS",
    "answer_notes",
    "answer_to_dict",
    "article_label",
    "article_rows",
    "cited_passages",
    "cited_sources",
    "count_articles",
    "digest_markdown",
    "escape_block",
    "escape_md",
    "format_answer",
    "format_article_header",
    "format_counts",
    "format_describe",
    "format_digest",
    "format_found",
    "format_partial",
    "format_passages",
    "format_report",
    "format_sources",
    "format_summary",
    "is_abstention",
    "link_markers",
    "outlet_choices",
    "parse_day",
    "parse_range",
    "passage_excerpt",
    "safe_url",
    "source_choices",
    "summary_header",
    "summary_markdown",
    "to_jsonable",
]
