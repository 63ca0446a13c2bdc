"""The opening of a news article: its first sentences, up to a word budget.

News is written top-down: the opening paragraphs say who did what, where, when and the
key numbers; later paragraphs add background and reactions. A brief summary written by a
small model from the opening alone covers as many key facts as one written from the whole
article, reads half the prompt, and has less material to mix up (see evals/README.md).
"""

from __future__ import annotations

from rag.text import sentence_spans, split_sentences

__all__ = ["article_opening", "lead_sentences", "text_to_summarize"]


def article_opening(text: str, words: int) -> str:
    """The start of ``text`` up to the end of the sentence that reaches ``words`` words;
    all of ``text`` when ``words`` is 0. An exact prefix of ``text`` (paragraph breaks
    kept), so the prompt of a brief summary shares its beginning with the other styles'
    prompts and the server's prompt cache reuses it.

    Example:
        >>> article_opening("Rates fell. Markets rose sharply. Analysts were surprised.", 3)
        'Rates fell. Markets rose sharply.'
        >>> article_opening("Rates fell. Markets rose.", 0)
        'Rates fell. Markets rose.'
    """
    if words <= 0:
        return text
    count = 0
    for start, end in sentence_spans(text):
        count += len(text[start:end].split())
        if count >= words:
            return text[:end]
    return text


def lead_sentences(text: str, n: int | None = None) -> list[str]:
    """The first ``n`` sentences of ``text`` (all when ``None``), headings left out.

    Example:
        >>> lead_sentences("# Rates\\nRates fell. Markets rose. Analysts were surprised.", 2)
        ['Rates fell.', 'Markets rose.']
    """
    sentences = [s for s in split_sentences(text) if not s.startswith("#")]
    return sentences if n is None else sentences[:n]


def text_to_summarize(text: str, style: str, brief_words: int) -> str:
    """What the model reads for a summary in ``style``: the opening for ``brief`` (up to
    ``brief_words`` words; 0 = all), the whole text for every other style.

    Example:
        >>> text_to_summarize("Rates fell. Markets rose.", "brief", 2)
        'Rates fell.'
        >>> text_to_summarize("Rates fell. Markets rose.", "bullets", 2)
        'Rates fell. Markets rose.'
    """
    return article_opening(text, brief_words) if style == "brief" else text
