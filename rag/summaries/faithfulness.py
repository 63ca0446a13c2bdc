"""A cheap faithfulness check: numbers, quotes and names in a summary must be in the source.

No model is involved; it catches the commonest small-model slips (a changed figure,
a paraphrase passed off as a quote, a person the article never mentions):

- every number in the summary appears in the source, compared by value:
  ``1,000`` = ``1000``, ``20%`` = ``20 percent``, ``1.5 million`` = ``1,500,000``,
  ``three`` in the source counts as ``3``;
- every double-quoted string appears in the source word for word (case, punctuation
  and curly/straight quote differences ignored; ``...`` splits a quote into pieces);
- a quote the summary gives to a named speaker is given to the one the article names
  (:mod:`rag.summaries.attribution`);
- (optional, on by default) every capitalized word that does not start a sentence
  appears in the source, allowing inflections ("Ukrainian" for "Ukraine").

Example:
    >>> report = check_faithfulness('Sales rose 12% to "a record".', "Sales rose 12 percent.")
    >>> report.ok, report.issues
    (False, ['quote not in the article: "a record"'])
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from rag.text import split_sentences

_SCALES = {
    "thousand": 10**3,
    "k": 10**3,
    "million": 10**6,
    "m": 10**6,
    "mn": 10**6,
    "billion": 10**9,
    "bn": 10**9,
    "b": 10**9,
    "trillion": 10**12,
    "tn": 10**12,
}
_NUMBER = re.compile(
    r"(?<!\w)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?"
    r"(?:\s+(thousand|million|billion|trillion)\b|(k|m|mn|bn|b|tn)\b)?",
    re.IGNORECASE,
)
_UNITS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUES = {word: i for i, word in enumerate(_UNITS)} | {
    word: 20 + 10 * i for i, word in enumerate(_TENS)
}
_WORD_VALUES |= {"dozen": 12, "hundred": 100, "a hundred": 100, "a thousand": 1000}
_NUMBER_WORD = re.compile(
    r"\b(?:("
    + "|".join(_TENS)
    + r")[- ]("
    + "|".join(_UNITS[1:10])
    + r")|("
    + "|".join(sorted(_WORD_VALUES, key=len, reverse=True))
    + r"))(?:\s+(thousand|million|billion|trillion)\b)?\b",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"“([^”]+)”|\"([^\"\n]+)\"")
_QUOTE_PIECES = re.compile(r"\.\.\.|…|\[[^\]]*\]")
_NAME = re.compile(r"(?<![\w'’])([A-ZÀ-ÖØ-Þ][\w'’-]*[\w])")
_NAME_IGNORE = frozenset({"I", "A", "OK"})
_PREFIX = 5
_MONTHS = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ABBREVIATED = {name[:3]: name for name in _MONTHS + _DAYS} | {"sept": "september"}


def _canonical(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _parse(digits: str, decimals: str | None) -> Decimal | None:
    try:
        return Decimal(digits.replace(",", "") + (decimals or ""))
    except InvalidOperation:
        return None


def summary_numbers(text: str) -> list[tuple[str, str]]:
    """Numbers written with digits in ``text``: (as written, canonical value).

    A scale word multiplies the value, so "1.5 million" becomes "1500000".

    Example:
        >>> summary_numbers("It cost $1.5bn, up 20%, on Feb. 14.")
        [('1.5bn', '1500000000'), ('20', '20'), ('14', '14')]
    """
    found = []
    for match in _NUMBER.finditer(text):
        value = _parse(match.group(1), match.group(2))
        if value is None:
            continue
        scale = (match.group(3) or match.group(4) or "").lower()
        if scale:
            value *= _SCALES[scale]
        found.append((match.group(0).strip(), _canonical(value)))
    return found


def source_numbers(text: str) -> set[str]:
    """All number values in ``text``, each both with and without its scale word.

    Example:
        >>> sorted(source_numbers("1,500,000 people; three cities; 2.5 million cars"))
        ['1500000', '2.5', '2500000', '3']
    """
    values: set[str] = set()
    for match in _NUMBER.finditer(text):
        value = _parse(match.group(1), match.group(2))
        if value is None:
            continue
        values.add(_canonical(value))
        scale = (match.group(3) or match.group(4) or "").lower()
        if scale:
            values.add(_canonical(value * _SCALES[scale]))
    for match in _NUMBER_WORD.finditer(text):
        if match.group(1):
            number = _WORD_VALUES[match.group(1).lower()] + _WORD_VALUES[match.group(2).lower()]
        else:
            number = _WORD_VALUES[match.group(3).lower()]
        values.add(str(number))
        if match.group(4):
            values.add(str(number * _SCALES[match.group(4).lower()]))
    return values


def normalize_words(text: str) -> str:
    """Lowercase words separated by single spaces; punctuation and quote styles dropped.

    Example:
        >>> normalize_words("“We’re  here,” he said.")
        'we re here he said'
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(re.findall(r"\w+", text))


def quoted_spans(text: str) -> list[str]:
    """The double-quoted strings in ``text`` (straight or curly quotes).

    Example:
        >>> quoted_spans('He said “no deal” and "not now".')
        ['no deal', 'not now']
    """
    return [(m.group(1) or m.group(2)).strip() for m in _QUOTED.finditer(text)]


@dataclass
class SourceIndex:
    """A source text prepared for repeated checks (numbers, words, name prefixes).

    Example:
        >>> SourceIndex("Zelenskyy spoke.").has_name("Zelensky")
        True
    """

    text: str
    numbers: set[str] = field(init=False)
    words: str = field(init=False)
    vocabulary: set[str] = field(init=False)
    prefixes: set[str] = field(init=False)
    quotations: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.numbers = source_numbers(self.text)
        self.words = f" {normalize_words(self.text)} "
        self.quotations = [f" {normalize_words(q)} " for q in quoted_spans(self.text)]
        vocabulary = set(self.words.split())
        vocabulary |= {a.replace(".", "").lower() for a in re.findall(r"(?:\w\.){2,}", self.text)}
        vocabulary |= {_ABBREVIATED[w] for w in vocabulary if w in _ABBREVIATED}
        self.vocabulary = vocabulary
        self.prefixes = {word[:_PREFIX] for word in vocabulary if len(word) >= _PREFIX}

    def has_quote(self, quote: str, *, quoted: bool = False) -> bool:
        """True when every piece of ``quote`` (split at ellipses) is in the source verbatim.

        With ``quoted``, each piece must lie inside one of the source's own quotations
        (words someone said), not merely anywhere in the text.
        """
        pieces = [normalize_words(p) for p in _QUOTE_PIECES.split(quote)]
        pieces = [f" {p} " for p in pieces if p]
        if not pieces:
            return False
        if quoted:
            return all(any(p in q for q in self.quotations) for p in pieces)
        return all(p in self.words for p in pieces)

    def has_name(self, name: str) -> bool:
        """True when the capitalized word ``name`` (or a close inflection) is in the source."""
        parts = [p for p in re.split(r"[-'’]", name.lower()) if len(p) >= 2]
        parts = [_ABBREVIATED.get(p, p) for p in parts]
        return all(
            part in self.vocabulary or (len(part) >= _PREFIX and part[:_PREFIX] in self.prefixes)
            for part in parts
        )


@dataclass
class FaithfulnessReport:
    """The outcome of :func:`check_faithfulness`: ``ok`` when ``issues`` is empty.

    Example:
        >>> FaithfulnessReport([]).ok
        True
    """

    issues: list[str]

    @property
    def ok(self) -> bool:
        """True when nothing in the summary contradicts the source."""
        return not self.issues


def missing_quotes(text: str, source: str | SourceIndex, *, quoted: bool = False) -> list[str]:
    """Quoted strings of ``text`` that are not in ``source`` word for word.

    With ``quoted``, they must also be inside quotation marks in the source.

    Example:
        >>> missing_quotes('"We will win," he said.', "He said: “We will prevail.”")
        ['We will win,']
        >>> missing_quotes('"He said"', "He said: “We will prevail.”", quoted=True)
        ['He said']
    """
    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    return [q for q in quoted_spans(text) if not index.has_quote(q, quoted=quoted)]


def unknown_names(text: str, source: str | SourceIndex) -> list[str]:
    """Capitalized words inside sentences of ``text`` that the source never uses.

    The first word of each sentence or line and words inside quotes are skipped.

    Example:
        >>> unknown_names("Talks with Biden and Zelensky.", "Zelenskyy met Vance.")
        ['Biden']
    """
    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    unknown: list[str] = []
    for line in text.split("\n"):
        line = re.sub(r"^\s*(?:[-*•–—]|\d{1,2}[.)])\s+", "", _QUOTED.sub(" ", line))
        for sentence in split_sentences(line):
            sentence = re.sub(r"\[\d+\]", " ", sentence)
            for match in _NAME.finditer(sentence):
                if not sentence[: match.start()].strip(" \"'“‘(—–-"):
                    continue
                name = match.group(1)
                if name in _NAME_IGNORE or index.has_name(name) or name in unknown:
                    continue
                unknown.append(name)
    return unknown


def check_faithfulness(
    summary: str,
    source: str | SourceIndex,
    *,
    check_names: bool = True,
    quote_source: str | SourceIndex | None = None,
) -> FaithfulnessReport:
    """Check that the numbers, quotes (and names) of ``summary`` come from ``source``, and
    that each quote is given to the speaker the article names.

    ``quote_source`` (default: ``source``) is where quotes must appear, e.g. the article
    body without its title and metadata.

    Example:
        >>> check_faithfulness("Vance spoke to 500 people.", "Vance spoke to 400 people.").issues
        ['number not in the article: 500']
    """
    from rag.summaries.attribution import misattributed_quotes  # it builds on this module

    index = source if isinstance(source, SourceIndex) else SourceIndex(source)
    issues: list[str] = []
    seen: set[str] = set()
    for written, value in summary_numbers(summary):
        if value not in index.numbers and value not in seen:
            seen.add(value)
            issues.append(f"number not in the article: {written}")
    quotes_in = index if quote_source is None else quote_source
    issues += [f'quote not in the article: "{q}"' for q in missing_quotes(summary, quotes_in)]
    quoted_text = quotes_in.text if isinstance(quotes_in, SourceIndex) else quotes_in
    issues += [
        f'quote given to {speaker}, whom the article does not name as its speaker: "{quote}"'
        for quote, speaker in misattributed_quotes(summary, quoted_text)
    ]
    if check_names:
        issues += [f"name not in the article: {n}" for n in unknown_names(summary, index)]
    return FaithfulnessReport(issues)
