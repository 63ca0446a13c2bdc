"""Quote attribution: a quotation in a summary must be given to the speaker the article names.

A small model copies a quotation word for word and then hands it to the wrong person (the
first name it saw, the article's main figure). The words check passes; this one reads who
the summary says spoke (``"...," said Fiona Larkin``, ``Hegseth said: "..."``,
``"..." — Fiona Larkin``, ``according to Larkin``) and looks for that name where the
article quotes the words: the paragraph holding them, or the paragraphs before it when
the quotation continues an earlier speaker's remarks. A quotation the summary gives to
nobody by name ("he said"), or one the article does not hold, is not judged here.

Example:
    >>> article = 'Ana Ruiz spoke first.\\n\\n"We will build," said Tom Berg, the council head.'
    >>> misattributed_quotes('Ana Ruiz said: "We will build."', article)
    [('We will build.', 'Ana Ruiz')]
    >>> misattributed_quotes('"We will build," Berg said.', article)
    []
"""

from __future__ import annotations

import re

from rag.summaries.faithfulness import normalize_words, quoted_spans
from rag.text import SPEECH_VERBS, paragraph_spans

__all__ = ["misattributed_quotes"]

_SPEECH = rf"(?:{SPEECH_VERBS}|told(?:\s+\w+){{1,3}}?)"
_NAME = r"[A-ZÀ-ÖØ-Þ][\w'’.-]+(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'’.-]+|de|van|von|al|bin|da|del))*"
_CAPITALIZED = re.compile(r"[A-ZÀ-ÖØ-Þ][\w'’.-]+")
_QUOTE = re.compile(r"“[^”]+”|\"[^\"\n]+\"")
# who speaks, written before the quotation: 'Hegseth said: "', 'Larkin told reporters that "'
_BEFORE = re.compile(
    rf"(?:(?P<name>{_NAME})(?:,[^,\"“”]{{1,80}},)?\s+{_SPEECH}|[Aa]ccording\s+to\s+(?P<by>{_NAME}))"
    r"\s*(?:that\s*)?[:,]?\s*$"
)
# ... or after it: '," said Fiona Larkin', '," Larkin said', '" — Fiona Larkin',
# '", according to Larkin'
_AFTER = re.compile(
    rf"^\s*[,.!?]?\s*(?:{_SPEECH}\s+(?P<late>{_NAME})|(?P<name>{_NAME})\s+{_SPEECH}\b"
    rf"|[—–]\s*(?P<dash>{_NAME})"
    rf"|[Aa]ccording\s+to\s+(?P<by>{_NAME}))"
)
_NOT_NAMES = frozenset(
    ["the", "he", "she", "it", "they", "we", "this", "that", "but", "and", "then", "also"]
)
_TITLES = frozenset(
    ["president", "prime", "minister", "secretary", "governor", "mayor", "senator", "dr",
     "mr", "mrs", "ms", "chief", "executive", "director", "chairman", "chair", "professor",
     "general", "spokesperson", "spokesman", "spokeswoman", "defence", "defense", "judge"]
)  # fmt: skip
_CONTEXT_PARAGRAPHS = 2  # a continued quotation is introduced at most this far back


def misattributed_quotes(summary: str, article: str) -> list[tuple[str, str]]:
    """``(quotation, speaker)`` pairs where the summary names a speaker the article does not
    name where it quotes those words.

    Example:
        >>> misattributed_quotes('"No deal," Vance said.', '"No deal," Rubio said.')
        [('No deal,', 'Vance')]
    """
    paragraphs = [article[a:b] for a, b in paragraph_spans(article)]
    normalized = [f" {normalize_words(p)} " for p in paragraphs]
    wrong: list[tuple[str, str]] = []
    for match in _QUOTE.finditer(summary):
        quote = quoted_spans(match.group(0))[0]
        speaker = _summary_speaker(summary, match.start(), match.end())
        where = _paragraph_of(quote, normalized)
        if speaker is None or where is None:
            continue
        if not _names_speaker(speaker, _context(paragraphs, where)):
            wrong.append((quote, speaker))
    return wrong


def _summary_speaker(text: str, start: int, end: int) -> str | None:
    """The name the summary gives the quotation at ``text[start:end]``, if any."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    before = _QUOTE.sub(" ", text[max(line_start, start - 120) : start])
    after = text[end : (line_end if line_end >= 0 else len(text))][:120]
    for found in (_AFTER.match(after), _BEFORE.search(before)):
        if found is None:
            continue
        groups = found.groupdict()
        name = next((groups[g] for g in ("name", "late", "dash", "by") if groups.get(g)), None)
        name = _strip_non_names((name or "").rstrip("."))
        if name:
            return name
    return None


def _strip_non_names(name: str) -> str:
    words = name.split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    return " ".join(words)


def _paragraph_of(quote: str, normalized: list[str]) -> int | None:
    needle = normalize_words(re.split(r"\.\.\.|…", quote)[0])
    if not needle:
        return None
    return next((i for i, p in enumerate(normalized) if f" {needle} " in p), None)


def _context(paragraphs: list[str], where: int) -> str:
    """The paragraph quoting the words, with the paragraphs before it when it names no
    speaker of its own (a continued quotation, or "he said")."""
    start = where
    while (
        start > 0
        and where - start < _CONTEXT_PARAGRAPHS
        and not _has_name(_QUOTE.sub(" ", paragraphs[start]))
    ):
        start -= 1
    return "\n".join(paragraphs[start : where + 1])


def _has_name(text: str) -> bool:
    """True when a capitalized word stands inside a sentence (a name, not a sentence start)."""
    return any(not _starts_sentence(text, m.start()) for m in _CAPITALIZED.finditer(text))


def _starts_sentence(text: str, index: int) -> bool:
    return not text[:index].strip() or text[:index].rstrip()[-1] in '.!?:"”'


def _names_speaker(speaker: str, context: str) -> bool:
    """True when a word of the speaker's name (titles aside) is in the context."""
    words = set(normalize_words(context).split())
    parts = [w for w in normalize_words(speaker).split() if w not in _TITLES and len(w) > 1]
    return not parts or any(p in words or p.rstrip("s") in words for p in parts)
