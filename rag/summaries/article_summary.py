"""One article's summary: generated in one call or from section notes, checked, retried once.

The text is checked against the article (numbers, quotes, names); a failed check
regenerates the summary once with its problems named, and what still fails is reported
in ``Summary.issues``. For the ``quotes`` style the model picks numbered quotations and
their lines are rendered from the article's own words. A brief that left out the figures
of the article's opening can get the sentence that states them
(:mod:`rag.summaries.figures`, ``RAG_SUMMARY_BRIEF_FIGURES``).

Example:
    >>> from rag.summaries.styles import get_style
    >>> _feedback(get_style("brief"), ["number 12 not in the article"])[:40]
    'Important: a previous attempt included d'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

from rag.summaries.faithfulness import SourceIndex, check_faithfulness, missing_quotes
from rag.summaries.figures import with_opening_figures
from rag.summaries.long_articles import map_notes
from rag.summaries.model_calls import Generation, Usage, drain, grounding_text, style_messages
from rag.summaries.opening import text_to_summarize
from rag.summaries.results import Method, Summary
from rag.summaries.styles import (
    NO_QUOTES_TEXT,
    StyleSpec,
    enforce_style,
    extract_quotations,
    find_speakers,
    render_quote_choice,
    render_quote_choices,
)

if TYPE_CHECKING:
    from rag.summaries.summarizer import Summarizer

__all__ = ["generate_summary"]

logger = logging.getLogger(__name__)


def generate_summary(
    summarizer: Summarizer, article: Any, spec: StyleSpec, started: float
) -> Generator[str, None, Summary]:
    """Stream a new summary of ``article`` in ``spec``'s style; return the finished ``Summary``.

    One call when the article fits the prompt, map-reduce when it does not; a summary
    that fails the faithfulness check is regenerated once with its problems named.

    Example (needs the LLM):
        >>> import time
        >>> from rag.summaries.styles import get_style
        >>> article = store.get_article("8782db0870783fc4")
        >>> run = generate_summary(summarizer, article, get_style("headline"), time.perf_counter())
        >>> drain(run).method  # doctest: +SKIP
        'stuff'
    """
    usage = Usage()
    quotations = extract_quotations(article.text) if spec.name == "quotes" else []
    speakers = find_speakers(article.text, quotations)
    if spec.name == "quotes" and not quotations:  # nothing to choose from: no LLM call
        yield NO_QUOTES_TEXT
        return _summary(summarizer, article, spec, NO_QUOTES_TEXT, [], [], "stuff", usage, started)
    method = summarizer.route(article, spec.name)
    if method == "stuff":
        words = summarizer.settings.summary_brief_words
        text, notes_mode = text_to_summarize(article.text, spec.name, words), False
    else:
        text, notes_mode = map_notes(summarizer, article, spec, usage), True
    messages = style_messages(spec, article, text, notes=notes_mode, quotations=quotations)
    run = summarizer.calls.run(messages, summarizer.answer_budget(spec), spec)
    generation = yield from (_render_quotes(run, quotations, speakers) if quotations else run)
    usage.add(generation)
    index = SourceIndex(grounding_text(article))
    body = SourceIndex(article.text)  # quotes must come from the text, not the title
    final, notes, issues = _finish(spec, generation, index, body, quotations, speakers)
    if issues:
        logger.info("summary of %s (%s) failed checks: %s", article.id, spec.name, issues)
        feedback = _feedback(spec, issues)
        retry_messages = style_messages(
            spec, article, text, notes=notes_mode, feedback=feedback, quotations=quotations
        )
        retry = drain(summarizer.calls.run(retry_messages, summarizer.answer_budget(spec), spec))
        usage.add(retry)
        retry_final, retry_notes, retry_issues = _finish(
            spec, retry, index, body, quotations, speakers
        )
        if len(retry_issues) < len(issues):
            final, notes, issues = retry_final, retry_notes, retry_issues
        notes = [*notes, "regenerated once after a failed faithfulness check"]
    if spec.name == "brief" and final and summarizer.settings.summary_brief_figures:
        final, added = with_opening_figures(
            final, article.text, summarizer.settings.summary_brief_words
        )
        if added:
            yield f" {added}"
            notes = [*notes, "added the opening's sentence with figures the summary left out"]
    return _summary(summarizer, article, spec, final, notes, issues, method, usage, started)


def _summary(
    summarizer: Summarizer,
    article: Any,
    spec: StyleSpec,
    text: str,
    notes: list[str],
    issues: list[str],
    method: Method,
    usage: Usage,
    started: float,
) -> Summary:
    return Summary(
        article_id=article.id,
        style=spec.name,
        text=text,
        title=str(getattr(article, "title", "") or ""),
        faithful=not issues,
        issues=issues,
        notes=notes,
        method=method,
        prompt_tokens=usage.prompt_tokens,
        completion_tokens=usage.completion_tokens,
        llm_calls=usage.calls,
        seconds=round(time.perf_counter() - started, 3),
        model=summarizer.model_name,
    )


def _render_quotes(
    run: Generator[str, None, Generation],
    quotations: list[str],
    speakers: list[str | None],
) -> Generator[str, None, Generation]:
    """Stream the model's "[n] speaker" lines as the quotation lines they stand for."""
    buffer = ""
    while True:
        try:
            buffer += next(run)
        except StopIteration as stop:
            rendered = render_quote_choice(buffer, quotations, speakers) if buffer.strip() else None
            if rendered:
                yield rendered
            return stop.value
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            rendered = render_quote_choice(line, quotations, speakers)
            if rendered:
                yield rendered + "\n"


def _finish(
    spec: StyleSpec,
    generation: Generation,
    index: SourceIndex,
    body: SourceIndex,
    quotations: list[str],
    speakers: list[str | None],
) -> tuple[str, list[str], list[str]]:
    """Enforce the style, then check faithfulness: (text, notes, issues)."""
    raw = generation.text
    if quotations:
        raw = render_quote_choices(raw, quotations, speakers)
    text, notes = enforce_style(
        spec.name,
        raw,
        quote_checker=lambda line: missing_quotes(line, body, quoted=True),
    )
    if generation.cut:
        kept = "the first line" if spec.unit == "words" else f"{spec.max_items} {spec.unit}"
        notes.insert(0, f"trimmed to {kept} (the model wrote more)")
    if not text.strip():
        return "", notes, ["the model returned no summary"]
    if spec.name == "quotes" and text == NO_QUOTES_TEXT and body.quotations:
        return text, notes, ["no quotation was copied word for word from the article"]
    return text, notes, check_faithfulness(text, index, quote_source=body).issues


def _feedback(spec: StyleSpec, issues: list[str]) -> str:
    listed = "; ".join(issues[:6])
    if spec.name == "quotes":
        return (
            f"Important: a previous attempt failed ({listed}). Answer with the numbers of "
            "quotations listed above and the names of their speakers as the article gives them."
        )
    return (
        f"Important: a previous attempt included details that are not in the article "
        f"({listed}). Use only names, numbers and quotations that appear in the article."
    )
