"""Figures a brief summary left out, put back from the article's opening.

Figures carry much of a news story: a vote of 9 to 4, 212 millimetres of rain, a cost of
2.9 billion. A small model's brief drops them more often than names or events. When it
does, the first sentence of the opening that states a missing figure is added word for
word (faithful by construction), as long as the brief stays no longer than the article's
first three sentences: a brief any longer would tell less than reading those.
See evals/README.md for what it does to key facts.

Example:
    >>> article = "Rates were cut to 3.75%. The vote was 7 to 2. Markets rose."
    >>> with_opening_figures("The bank cut rates to 3.75%.", article, opening_words=0)
    ('The bank cut rates to 3.75%. The vote was 7 to 2.', 'The vote was 7 to 2.')
"""

from __future__ import annotations

import re

from rag.summaries.faithfulness import source_numbers, summary_numbers
from rag.summaries.opening import article_opening, lead_sentences

__all__ = ["with_opening_figures"]

_QUOTE_MARKS = re.compile(r"[\"“”«»]")


def with_opening_figures(brief: str, article: str, opening_words: int) -> tuple[str, str | None]:
    """``brief`` with the first sentence of the opening that states a figure it left out,
    and that sentence (``None`` when nothing is added).

    The opening is the article's first ``opening_words`` words (whole sentences; 0 = the
    whole article); news puts what matters most first, so the earliest sentence wins. A
    sentence qualifies when it brings a figure the brief does not state (in digits or in
    words, "1.2bn" and "1.2 billion" alike), holds no quotation (a quote out of
    its context loses its speaker) and keeps the brief within the words of the article's
    first three sentences.

    Example:
        >>> article = "Storms hit the coast. Roads closed. A gauge showed 212 mm in a day."
        >>> with_opening_figures("Storms hit the coast.", article, 0)[1]
        'A gauge showed 212 mm in a day.'
        >>> with_opening_figures("Storms brought 212 mm of rain.", article, 0)
        ('Storms brought 212 mm of rain.', None)
    """
    budget = len(" ".join(lead_sentences(article, 3)).split()) - len(brief.split())
    stated = source_numbers(brief)
    for sentence in lead_sentences(article_opening(article, opening_words)):
        added = " ".join(sentence.split())
        if (
            {value for _, value in summary_numbers(added)} - stated
            and len(added.split()) <= budget
            and not _QUOTE_MARKS.search(added)
        ):
            return f"{brief.rstrip()} {added}", added
    return brief, None
