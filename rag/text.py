"""Small text utilities every part of the package shares: sentences, token estimates,
stop words, URL keys and typed dates.

* Sentences: :func:`sentence_spans` (exact character offsets, used for chunk boundaries
  and evidence sentences) and :func:`split_sentences` (the sentences as strings). One
  abbreviation list, one rule for initials.
* Token estimates: :func:`estimate_word_pieces` approximates the embedder's WordPiece
  count (chunk sizes); :func:`estimate_llm_tokens` approximates an LLM's token count
  (prompt budgets for answers and summaries). Different tokenizers, different formulas.
* Stop words: :func:`stop_words`, the English list the lexical index and the question
  checks share (loaded from ``bm25s`` on first use).
* URLs: :func:`canonical_url` is the identity of an article's address (tracking
  parameters and fragments dropped, the rest kept); :func:`loose_url_key` is a forgiving
  comparison key (no scheme, ``www.``, query or final slash) for matching URLs written
  by people.
* Dates: :func:`parse_day` and :func:`parse_range` read the ``YYYY-MM-DD`` days a person
  types (a date filter, a digest's range) with one message for a bad or reversed one;
  :func:`published_day` reads an article's stored date, None when it has no full one.

Example:
    >>> split_sentences("Mr. Vance spoke on Feb. 14. Europe reacted.")
    ['Mr. Vance spoke on Feb. 14.', 'Europe reacted.']
    >>> estimate_llm_tokens("x" * 38), loose_url_key("https://www.a.example/x/")
    (10, 'a.example/x')
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "LLM_CHARS_PER_TOKEN",
    "SPEECH_VERBS",
    "canonical_url",
    "estimate_llm_tokens",
    "estimate_word_pieces",
    "loose_url_key",
    "paragraph_spans",
    "parse_day",
    "parse_range",
    "sentence_spans",
    "split_sentences",
    "stop_words",
]

# --------------------------------------------------------------------------- sentences
SPEECH_VERBS = (
    r"(?:said|says|told|tells|added|adds|warned|asked|wrote|insisted|argued|replied|stated"
    r"|declared|noted|explained|recalled|urged|called|described)"
)
"""A regex group of the verbs news uses to attribute a quotation ("X said", "X called it")."""

_ABBREVIATION_WORDS = """
    mr mrs ms dr prof sr jr st mt ft gen col lt sgt capt cmdr adm gov sen rep pres rev hon
    inc ltd co corp plc llc bros dept univ assn approx vs etc al fig nos vol pp eds
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())
# Letters joined by periods: initials ("J.D."), "U.S.", "e.g.", "a.m.", "D.C.".
_DOTTED_INITIALS = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")
# The lookbehind starts a match only at the first mark of a run: without it, a long run of
# dots is re-scanned from every position (quadratic time).
_SENTENCE_END = re.compile(
    r"(?<![.!?…])[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?(?P<next>\w))|[。！？]+[」』”’)]*"
)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_HEADING_LINE = re.compile(r"^[ \t]*#.*$", re.MULTILINE)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the paragraphs of ``text`` (separated by blank lines), without
    surrounding whitespace.

    Example:
        >>> t = "Rain fell.\\n\\n  Rivers rose.\\n"
        >>> [t[s:e] for s, e in paragraph_spans(t)]
        ['Rain fell.', 'Rivers rose.']
    """
    spans, pos = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in (_strip_span(text, s, e) for s, e in spans) if e > s]


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Character spans of the sentences in ``text[start:end]`` (abbreviation-aware).

    A sentence ends at ``.``, ``!``, ``?`` or ``…`` (with any closing quotes or brackets)
    followed by whitespace and a capital letter or digit, unless the period belongs to a
    known abbreviation ("Mr.", "Feb.") or to initials ("J. D.", "U.S."). Spans carry no
    surrounding whitespace. Line breaks are whitespace here; see :func:`split_sentences`.

    Example:
        >>> t = "Mr. Vance met Dr. Lee in the U.S. capital. They talked. Then left."
        >>> [t[s:e] for s, e in sentence_spans(t)]
        ['Mr. Vance met Dr. Lee in the U.S. capital.', 'They talked.', 'Then left.']
    """
    end = len(text) if end is None else end
    spans, pos = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        following = match.group("next")
        if following is not None and not (following.isupper() or following.isdigit()):
            continue
        if _is_abbreviation(text, pos, match.start(), match.group()):
            continue
        spans.append(_strip_span(text, pos, match.end()))
        pos = match.end()
    spans.append(_strip_span(text, pos, end))
    return [(s, e) for s, e in spans if e > s]


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text`` as strings; a paragraph break or a Markdown heading line
    always ends one (so a heading is a sentence of its own).

    Example:
        >>> split_sentences("## Damage\\nCosts rose to $3.5 million. J.D. Vance said so!")
        ['## Damage', 'Costs rose to $3.5 million.', 'J.D. Vance said so!']
    """
    sentences: list[str] = []
    for p_start, p_end in paragraph_spans(text):
        headings = _HEADING_LINE.finditer(text, p_start, p_end)
        bounds = [p_start, *(i for m in headings for i in m.span()), p_end]
        for start, end in itertools.pairwise(bounds):
            sentences += [text[s:e] for s, e in sentence_spans(text, start, end)]
    return sentences


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _is_abbreviation(text: str, sentence_start: int, dot: int, mark: str) -> bool:
    if not mark.startswith(".") or mark.startswith(".."):
        return False
    word_start = dot
    while word_start > sentence_start and not text[word_start - 1].isspace():
        word_start -= 1
    word = text[word_start:dot].lstrip("\"'“‘([").lower()
    if len(word) == 1 and word.isalpha():
        return True  # an initial, as in "J. D. Vance"
    return word in _ABBREVIATIONS or _DOTTED_INITIALS.fullmatch(word) is not None


# --------------------------------------------------------------------------- token estimates
LLM_CHARS_PER_TOKEN = 3.8  # English news prose in the Qwen / GPT tokenizers
_WORD_OR_MARK = re.compile(r"\w+|[^\w\s]")
# Beyond ASCII, the Latin-1 Supplement, Latin Extended-A/B and General Punctuation blocks.
_WHOLE_TOKEN_CHAR = re.compile(r"[^\x00-\u024f\u2000-\u206f]")


def estimate_word_pieces(text: str) -> int:
    """A tokenizer-free over-estimate of the embedder's word pieces (words and punctuation
    marks x 1.3), for when its tokenizer cannot be loaded.

    Example:
        >>> estimate_word_pieces("Hello, world")
        4
    """
    return (len(_WORD_OR_MARK.findall(text)) * 13 + 9) // 10


def estimate_llm_tokens(text: str) -> int:
    """A cheap estimate of an LLM's tokens for ``text``, for prompt budgets: characters
    / 3.8, except that a character beyond the Latin alphabets (CJK, Cyrillic, Greek,
    Arabic, ...) counts as a whole token, since a vocabulary learnt mostly from English
    text merges those poorly. Accented Latin letters and typographic punctuation (dashes,
    curly quotes, the ellipsis) count like ASCII.

    Example:
        >>> estimate_llm_tokens("x" * 38), estimate_llm_tokens("日本語")
        (10, 3)
        >>> estimate_llm_tokens("“Café” — ok") == estimate_llm_tokens('"Cafe" - ok')
        True
    """
    other = 0 if text.isascii() else len(_WHOLE_TOKEN_CHAR.findall(text))
    return math.ceil((len(text) - other) / LLM_CHARS_PER_TOKEN) + other


# --------------------------------------------------------------------------- stop words
@functools.cache
def stop_words() -> frozenset[str]:
    """English stop words (``bm25s``'s extended list), lower case; loaded on first use.

    Example:
        >>> "the" in stop_words(), "ukraine" in stop_words()
        (True, False)
    """
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


# --------------------------------------------------------------------------- URLs
_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|dclid|mc_cid|mc_eid|igshid|ref_src)$", re.I)


def canonical_url(url: str) -> str:
    """Canonical form of an article's URL: lower-case scheme and host, no default port, no
    fragment, no tracking parameters (``utm_*``, ``fbclid``, ...); path and the other query
    parameters kept. Raises ``ValueError`` for an unreadable host or port.

    Example:
        >>> canonical_url("HTTPS://News.Example:443/a?utm_source=x&id=3#top")
        'https://news.example/a?id=3'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = [(k, v) for k, v in query if not _TRACKING_PARAMS.match(k)]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def loose_url_key(url: str) -> str:
    """A forgiving key for "is this the same page": no scheme, no ``www.``, no default
    port, no query or fragment, no final ``/``; the host in lower case.

    Example:
        >>> loose_url_key("HTTPS://www.Example.org/a/b/?utm=1#x")
        'example.org/a/b'
    """
    text = url.strip()
    text = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", text)
    text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    host, _, rest = text.partition("/")
    host = host.lower().removeprefix("www.").removesuffix(":443").removesuffix(":80")
    return f"{host}/{rest}" if rest else host


# --------------------------------------------------------------------------- dates
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: date | str | None, label: str) -> date | None:
    """A day given as a ``date`` or as ``YYYY-MM-DD`` text, None when empty; ValueError
    naming ``label`` when it is not one (a ``datetime`` counts as its day).

    Example:
        >>> parse_day(" 2025-02-14 ", "Since")
        datetime.date(2025, 2, 14)
        >>> parse_day("", "Since") is None
        True
    """
    if isinstance(value, datetime):
        return value.date()
    if value is None or isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    if _DAY.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise ValueError(f"{label}: {text!r} is not a date; use YYYY-MM-DD, e.g. 2025-02-14")


def published_day(published: object) -> date | None:
    """The day of an article's ``published`` value (``YYYY-MM-DD``, maybe with a time),
    None when it is empty or not a full date.

    Example:
        >>> published_day("2025-02-14T09:30:00"), published_day("2025-02"), published_day(None)
        (datetime.date(2025, 2, 14), None, None)
    """
    try:
        return date.fromisoformat(str(published or "")[:10])
    except ValueError:
        return None


def spelled_day(day: date) -> str:
    """``day`` as news writes it: "April 15, 2025".

    Example:
        >>> spelled_day(date(2025, 4, 15))
        'April 15, 2025'
    """
    return f"{day:%B} {day.day}, {day.year}"


def parse_range(
    since: date | str | None, until: date | str | None
) -> tuple[date | None, date | None]:
    """Both ends of a date range (see :func:`parse_day`), checked to be in order.

    Example:
        >>> parse_range("2025-02-01", "")
        (datetime.date(2025, 2, 1), None)
    """
    start, end = parse_day(since, "Since"), parse_day(until, "Until")
    if start and end and start > end:
        raise ValueError(f"Since ({start}) is after Until ({end})")
    return start, end
