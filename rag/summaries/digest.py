"""Digests: brief summaries of the chosen articles reduced into points with ``[n]`` markers.

Each point must cite its articles; invalid markers are removed, an article the model
left out gets a point from its brief summary, long points are cut to their first
sentence, and every point is checked against the articles it cites.

Example:
    >>> _shorten_point("Rain fell in the valley today. " * 10, [1, 2])
    'Rain fell in the valley today. [1][2]'
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from rag.prompts import load_prompt
from rag.summaries.faithfulness import check_faithfulness
from rag.summaries.model_calls import Generation, article_meta, grounding_text
from rag.summaries.results import Digest, DigestArticle, Summary
from rag.summaries.styles import StreamGate, bullet_items, clean_output
from rag.text import split_sentences

if TYPE_CHECKING:
    from rag.summaries.summarizer import Summarizer

__all__ = ["stream_digest_of"]

DIGEST_PROMPT = "digest_reduce"
DIGEST_MAX_POINTS = 8
DIGEST_POINT_WORDS = 45
DIGEST_MAX_TOKENS = 450


def stream_digest_of(
    summarizer: Summarizer,
    articles: list[Any],
    topic: str | None,
    progress: Callable[[int, int, str], None] | None,
    *,
    summarize: Callable[[Any], Summary],
) -> Iterator[str | Digest]:
    """Summarize each article with ``summarize``, then stream the reduce step, then the Digest.

    Example (needs the LLM):
        >>> from rag.summaries.request import DigestRequest
        >>> articles = summarizer.select_articles(DigestRequest(outlet="Civic Wire"))
        >>> brief = lambda article: summarizer.summarize(article.id)
        >>> pieces = stream_digest_of(summarizer, articles, None, None, summarize=brief)
        >>> [*pieces][-1].articles[0].n  # doctest: +SKIP
        1
    """
    started = time.perf_counter()
    summaries: list[Summary] = []
    if progress:
        progress(0, len(articles), "")
    for done, article in enumerate(articles, start=1):
        summaries.append(summarize(article))
        if progress:
            progress(done, len(articles), str(article.title))
    listing = _digest_listing(summarizer, articles, summaries)
    messages = load_prompt(DIGEST_PROMPT).messages(
        summaries=listing, count=len(articles), topic=topic or ""
    )
    max_tokens = min(DIGEST_MAX_TOKENS, int(summarizer.settings.llm_max_tokens))
    generation = yield from summarizer.calls.run(
        messages, max_tokens, gate=StreamGate("bullets", DIGEST_MAX_POINTS)
    )
    digest = _build_digest(summarizer, generation, articles, summaries, topic)
    fresh = sum(s.prompt_tokens for s in summaries if not s.cached)  # this run's cost only
    digest.prompt_tokens = generation.prompt_tokens + fresh
    digest.seconds = round(time.perf_counter() - started, 3)
    yield digest


def _digest_listing(summarizer: Summarizer, articles: list[Any], summaries: list[Summary]) -> str:
    def listing(first_sentence_only: bool) -> str:
        blocks = []
        for n, (article, summary) in enumerate(zip(articles, summaries, strict=True), 1):
            text = summary.text
            if first_sentence_only:
                text = (split_sentences(text) or [text])[0]
            meta = article_meta(article)
            blocks.append(f"[{n}] {article.title}{f' ({meta})' if meta else ''}\n{text}")
        return "\n\n".join(blocks)

    full = listing(False)
    budget = summarizer.input_budget(DIGEST_MAX_TOKENS)
    return full if summarizer.count_tokens(full) + 200 <= budget else listing(True)


def _build_digest(
    summarizer: Summarizer,
    generation: Generation,
    articles: list[Any],
    summaries: list[Summary],
    topic: str | None,
) -> Digest:
    from rag.qa.citations import parse_citations

    sources = {n: a.text for n, a in enumerate(articles, start=1)}
    grounding = {n: grounding_text(a) for n, a in enumerate(articles, start=1)}
    points: list[str] = []
    cited: list[int] = []
    invalid: list[int] = []
    issues: list[str] = []
    notes: list[str] = []
    unfaithful = False
    for item in bullet_items(clean_output(generation.text))[:DIGEST_MAX_POINTS]:
        parsed = parse_citations(item, sources)
        for flag in parsed.flags:
            if flag.kind == "invalid_citation" and flag.number is not None:
                invalid += [] if flag.number in invalid else [flag.number]
            elif flag.kind == "unsupported_quote":
                unfaithful = True
                issues.append(flag.message)
        if not parsed.numbers:
            issues.append(f"point without an article marker: {parsed.text[:80]}")
        cited += [n for n in parsed.numbers if n not in cited]
        basis = "\n\n".join(grounding[n] for n in parsed.numbers or grounding)
        text = re.sub(r"\s*\[\d+\]", "", parsed.text)
        point = _shorten_point(text, parsed.numbers) or parsed.text
        if point != parsed.text:
            notes.append(f"shortened point {len(points) + 1} to its first sentence")
        problems = check_faithfulness(text, basis).issues
        problems = [p for p in problems if not p.startswith("quote")]  # checked above
        unfaithful = unfaithful or bool(problems)
        issues += [f"{p} (point {len(points) + 1})" for p in problems]
        points.append(point)
    uncited = [n for n in sources if n not in cited]
    for n in uncited:
        first = (split_sentences(summaries[n - 1].text) or [summaries[n - 1].text])[0]
        points.append(f"{first} [{n}]")
        issues.append(f"article [{n}] was not cited by the model; added from its summary")
    articles_out = [
        DigestArticle(
            n=n,
            article_id=a.id,
            title=str(a.title),
            outlet=getattr(a, "outlet", None) or None,
            url=getattr(a, "url", None) or None,
            published=getattr(a, "published", None) or None,
        )
        for n, a in enumerate(articles, start=1)
    ]
    faithful = not unfaithful and all(s.faithful for s in summaries)
    return Digest(
        text="\n".join(f"- {p}" for p in points),
        articles=articles_out,
        invalid_markers=invalid,
        uncited=uncited,
        faithful=faithful,
        issues=issues,
        notes=notes,
        summaries=summaries,
        topic=topic,
        model=summarizer.model_name,
    )


def _shorten_point(text: str, numbers: list[int]) -> str | None:
    """A digest point over DIGEST_POINT_WORDS cut to its first sentence, markers kept."""
    sentences = split_sentences(text)
    if len(text.split()) <= DIGEST_POINT_WORDS or len(sentences) < 2:
        return None
    return f"{sentences[0]} {''.join(f'[{n}]' for n in numbers)}".strip()
