"""Long articles: split into even sections, each noted by the model (map), notes collapsed.

An article that does not fit the model's context with its prompt is summarized from
notes on its sections (:func:`map_notes`); the style's prompt then reduces the notes.

Example:
    >>> split_sections("a b c\\n\\nd e f", 4, lambda t: len(t.split()))
    ['a b c', 'd e f']
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rag.prompts import load_prompt
from rag.summaries.model_calls import Usage, as_prompt_data, drain, style_messages
from rag.summaries.styles import StreamGate, StyleSpec, bullet_items, clean_output
from rag.text import LLM_CHARS_PER_TOKEN, split_sentences

if TYPE_CHECKING:
    from rag.summaries.summarizer import Summarizer

__all__ = ["MAP_PROMPT", "map_notes", "split_sections"]

logger = logging.getLogger(__name__)

MAP_PROMPT = "summary_map"
MAP_NOTE_TOKENS = 220
MAP_MAX_POINTS = 6
MAX_COLLAPSE_ROUNDS = 3


def split_sections(text: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    """Split ``text`` into even sections of at most ``max_tokens`` at paragraph boundaries.

    Paragraphs too long for a section are split at sentences, sentences at words.

    Example:
        >>> split_sections("a b c\\n\\nd e f", 4, lambda t: len(t.split()))
        ['a b c', 'd e f']
    """
    pieces = _atoms(text, max_tokens, count)
    sizes = [count(p) for p in pieces]
    total = sum(sizes)
    target = total / max(1, math.ceil(total / max_tokens))
    sections: list[str] = []
    current: list[str] = []
    size = cumulative = 0
    for piece, tokens in zip(pieces, sizes, strict=True):
        boundary = (len(sections) + 1) * target
        crosses = cumulative + tokens > boundary
        nearer_now = boundary - cumulative <= cumulative + tokens - boundary
        if current and (size + tokens > max_tokens or (crosses and nearer_now)):
            sections.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += tokens
        cumulative += tokens
    if current:
        sections.append("\n\n".join(current))
    return sections


def _atoms(text: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    atoms: list[str] = []
    for paragraph in (p.strip() for p in re.split(r"\n\s*\n|\n", text)):
        if not paragraph:
            continue
        if count(paragraph) <= max_tokens:
            atoms.append(paragraph)
            continue
        for sentence in split_sentences(paragraph):
            if count(sentence) <= max_tokens:
                atoms.append(sentence)
                continue
            words, line = sentence.split(), ""
            for word in words:
                if line and count(f"{line} {word}") > max_tokens:
                    atoms.append(line)
                    line = word
                else:
                    line = f"{line} {word}".strip()
            if line:
                atoms.append(line)
    return atoms


def map_notes(summarizer: Summarizer, article: Any, spec: StyleSpec, usage: Usage) -> str:
    """Notes on each section of a long article, collapsed until they fit one prompt.

    Example (needs the LLM):
        >>> from rag.ingest.article import Article
        >>> from rag.summaries.styles import get_style
        >>> long_article = Article.create(title="Budget", text="Fares rose. " * 5000)
        >>> map_notes(summarizer, long_article, get_style("brief"), Usage())  # doctest: +SKIP
        'Part 1:\\n- Fares rose...'
    """
    budget = summarizer.input_budget(summarizer.answer_budget(spec))
    text, round_ = article.text, 0
    while True:
        notes = _map_once(summarizer, article, text, usage)
        messages = style_messages(spec, article, notes, notes=True)
        round_ += 1
        if summarizer.calls.count_messages(messages) <= budget or round_ >= MAX_COLLAPSE_ROUNDS:
            break
        text = notes
    overflow = summarizer.calls.count_messages(messages) - budget
    if overflow > 0:  # still too long after collapsing: keep the start of the notes
        keep = max(200, len(notes) - int(overflow * LLM_CHARS_PER_TOKEN))
        notes = notes[:keep].rsplit("\n", 1)[0]
    return notes


def _map_once(summarizer: Summarizer, article: Any, text: str, usage: Usage) -> str:
    prompt = load_prompt(MAP_PROMPT)
    empty = prompt.messages(title=article.title, part=99, parts=99, text="")
    section_budget = summarizer.input_budget(MAP_NOTE_TOKENS) - summarizer.calls.count_messages(
        empty
    )
    sections = split_sections(text, max(64, section_budget), summarizer.count_tokens)
    logger.info("map-reduce over %d sections of %s", len(sections), article.id)
    notes = []
    for number, section in enumerate(sections, start=1):
        messages = prompt.messages(
            title=as_prompt_data(" ".join(str(article.title).split())),
            part=number,
            parts=len(sections),
            text=as_prompt_data(section),
        )
        gate = StreamGate("bullets", MAP_MAX_POINTS)
        generation = drain(summarizer.calls.run(messages, MAP_NOTE_TOKENS, gate=gate))
        usage.add(generation)
        points = bullet_items(clean_output(generation.text))[:MAP_MAX_POINTS]
        notes.append(f"Part {number}:\n" + "\n".join(f"- {p}" for p in points))
    return "\n\n".join(notes)
