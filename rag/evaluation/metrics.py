"""Evaluation metrics as pure functions: answers, retrieval, citations, summaries, latency.

Nothing here touches a model or the store; :mod:`rag.evaluation.scoring` feeds these functions
with what the service returned. Every function works on plain strings, lists and numbers.

Two kinds of text normalization are used:

- :func:`normalize_answer` is SQuAD's (lowercase, drop punctuation and the articles
  a/an/the, collapse spaces); exact match and token F1 use it, as the SQuAD script does.
- :func:`normalize_keywords` keeps numbers readable for keyword checks: ``3.75%`` becomes
  ``3.75 percent``, ``3,400`` becomes ``3400``, ``3.50`` becomes ``3.5``, accents are
  removed (``Engström`` -> ``engstrom``) and every other punctuation mark (hyphens,
  dashes, quotes) becomes a space, so ``3-2`` matches the keyword ``3 2``.

Keyword lists (``must_include``, key facts, gold articles) share one shape: each item is a
string, or a list of alternatives of which any one is enough.

Example:
    >>> f1_score("He ruled out NATO membership [1].", ["NATO membership for Ukraine"])
    0.4444444444444445
    >>> keyword_recall("Rates fell to 3.75% [2].", ["3.75", ["cut", "fell"]])
    1.0
    >>> hit_at_k(["a", "b", "c"], [["c", "d"]], k=2)
    0.0
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from rag.qa.citations import strip_citations
from rag.summaries.opening import lead_sentences
from rag.text import split_sentences

Alternatives = str | Sequence[str]
"""One required item: a string, or a list of acceptable alternatives."""

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation) | {"“", "”", "‘", "’", "—", "–", "…", "«", "»"}


# --- answers ---------------------------------------------------------------------------
def normalize_answer(text: str) -> str:
    """SQuAD normalization: lowercase, no punctuation, no articles, single spaces.

    Example:
        >>> normalize_answer("The  NATO-membership, for Ukraine!")
        'natomembership for ukraine'
    """
    text = strip_citations(text).lower()
    text = "".join(ch for ch in text if ch not in _PUNCT)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalized prediction equals one normalized gold answer, else 0.0.

    Example:
        >>> exact_match("Kofi Mensah [1].", ["Kofi Mensah"])
        1.0
    """
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(gold) for gold in golds))


def _token_f1(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    common = Counter(pred_tokens) & Counter(gold_tokens)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """SQuAD token F1: the best F1 over the gold answers (0.0 when there are none).

    Example:
        >>> f1_score("Kofi Mensah scored", ["Kofi Mensah"])
        0.8
    """
    return max((_token_f1(prediction, gold) for gold in golds), default=0.0)


def contains_answer(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when one normalized gold answer appears inside the normalized prediction.

    Long, sentence-style answers rarely match exactly; this is the lenient twin of
    :func:`exact_match`.

    Example:
        >>> contains_answer("The winner was Kofi Mensah in extra time.", ["Kofi Mensah"])
        1.0
    """
    pred = f" {normalize_answer(prediction)} "
    return float(any(f" {normalize_answer(g)} " in pred for g in golds if normalize_answer(g)))


# --- keywords ----------------------------------------------------------------------------
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_TRAILING_ZEROS = re.compile(r"(\d+\.\d*?[1-9])0+\b|(\d+)\.0+\b")
_NON_WORD = re.compile(r"[^a-z0-9.]+")
_LONE_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


def _strip_trailing_zeros(match: re.Match[str]) -> str:
    return match.group(1) if match.group(1) is not None else match.group(2)


def normalize_keywords(text: str) -> str:
    """Lowercase, accent-free text with numbers kept intact, for keyword checks.

    Example:
        >>> normalize_keywords("Engström: rates at 3.50%, 3,400 people; a 3–2 win.")
        'engstrom rates at 3.5 percent 3400 people a 3 2 win'
    """
    text = strip_citations(text or "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = text.replace("%", " percent ")
    while _THOUSANDS.search(text):
        text = _THOUSANDS.sub("", text)
    text = _TRAILING_ZEROS.sub(_strip_trailing_zeros, text)
    text = _NON_WORD.sub(" ", text)
    text = _LONE_DOT.sub(" ", text)
    return " ".join(text.split())


def _alternatives(item: Alternatives) -> list[str]:
    return [item] if isinstance(item, str) else [str(x) for x in item]


def has_keyword(text: str, item: Alternatives, *, normalized: bool = False) -> bool:
    """True when ``text`` contains the keyword (or one of its alternatives) as whole words.

    Example:
        >>> has_keyword("No US troops.", ["none", "no"])
        True
        >>> has_keyword("Nothing.", "no")
        False
    """
    haystack = f" {text if normalized else normalize_keywords(text)} "
    return any(
        f" {needle} " in haystack
        for needle in (normalize_keywords(alt) for alt in _alternatives(item))
        if needle
    )


def keyword_recall(text: str, items: Sequence[Alternatives]) -> float | None:
    """Fraction of required items found in ``text`` (``None`` when nothing is required).

    Example:
        >>> keyword_recall("NATO membership was ruled out.", ["NATO", ["2014", "borders"]])
        0.5
    """
    if not items:
        return None
    normalized = normalize_keywords(text)
    return sum(has_keyword(normalized, item, normalized=True) for item in items) / len(items)


# --- retrieval -----------------------------------------------------------------------------
def _gold_set(gold: Sequence[Alternatives]) -> set[str]:
    return {alt for item in gold for alt in _alternatives(item)}


def hit_at_k(retrieved: Sequence[str], gold: Sequence[Alternatives], k: int) -> float:
    """1.0 when one of the first ``k`` retrieved article ids is a gold article.

    ``retrieved`` is the ranked list of article ids (one per retrieved chunk, duplicates
    allowed); ``gold`` lists required articles, each an id or a list of alternative ids.

    Example:
        >>> hit_at_k(["x", "a", "y"], ["a"], k=2)
        1.0
    """
    golds = _gold_set(gold)
    return float(any(article in golds for article in list(retrieved)[:k]))


def recall_at_k(retrieved: Sequence[str], gold: Sequence[Alternatives], k: int) -> float | None:
    """Fraction of required gold articles found in the first ``k`` results.

    Example:
        >>> recall_at_k(["a", "x"], ["a", ["b", "c"]], k=2)
        0.5
    """
    if not gold:
        return None
    top = set(list(retrieved)[:k])
    return sum(any(alt in top for alt in _alternatives(item)) for item in gold) / len(gold)


def reciprocal_rank(retrieved: Sequence[str], gold: Sequence[Alternatives]) -> float:
    """1 / rank of the first retrieved result from a gold article (0.0 if none).

    Example:
        >>> reciprocal_rank(["x", "y", "a"], [["a", "b"]])
        0.3333333333333333
    """
    golds = _gold_set(gold)
    for rank, article in enumerate(retrieved, start=1):
        if article in golds:
            return 1.0 / rank
    return 0.0


# --- a random retriever: the retrieval floor ------------------------------------------------
def _miss_probability(total: int, gold: int, draws: int) -> float:
    """P(no gold chunk among ``draws`` chunks drawn without replacement from ``total``)."""
    miss = 1.0
    for j in range(min(draws, total)):
        miss *= max(total - gold - j, 0) / (total - j)
    return miss


def _random_reciprocal_rank(total: int, gold: int, k: int) -> float:
    expected, miss = 0.0, 1.0
    for rank in range(1, min(k, total) + 1):
        remaining = total - rank + 1
        # no gold chunk was drawn before this rank, so all ``gold`` of them remain
        expected += miss * (gold / remaining) / rank
        miss *= max(remaining - gold, 0) / remaining
    return expected


def random_retrieval_scores(
    chunk_counts: Mapping[str, int], gold: Sequence[Alternatives], k: int
) -> dict[str, float | None]:
    """Expected hit@k, recall@k and MRR of a retriever returning ``k`` random chunks.

    ``chunk_counts`` maps every stored article id to its number of chunks; the retriever
    draws ``k`` of all those chunks uniformly without replacement. This is the floor a
    retriever must beat: it needs no model and depends only on the corpus and ``k``.

    Example:
        >>> scores = random_retrieval_scores({"a": 1, "b": 1}, ["a"], k=1)
        >>> scores["hit_at_k"], scores["mrr"]
        (0.5, 0.5)
        >>> random_retrieval_scores({"a": 1, "b": 1}, ["a"], k=2)["mrr"]
        0.75
    """
    total = sum(chunk_counts.values())
    if not gold or total <= 0:
        return {"hit_at_k": None, "recall_at_k": None, "mrr": None}
    golds = sum(chunk_counts.get(i, 0) for i in _gold_set(gold))
    required = [
        1.0
        - _miss_probability(total, sum(chunk_counts.get(a, 0) for a in set(_alternatives(item))), k)
        for item in gold
    ]
    return {
        "hit_at_k": 1.0 - _miss_probability(total, golds, k),
        "recall_at_k": sum(required) / len(required),
        "mrr": _random_reciprocal_rank(total, golds, k),
    }


# --- abstention and citations ---------------------------------------------------------------
def abstention_correct(abstained: bool, answerable: bool) -> float:
    """1.0 when the system abstained exactly on the unanswerable questions.

    Example:
        >>> abstention_correct(abstained=True, answerable=False)
        1.0
        >>> abstention_correct(abstained=True, answerable=True)
        0.0
    """
    return float(bool(abstained) != bool(answerable))


def refusals(abstained: bool, answerable: bool) -> tuple[float | None, float | None]:
    """``(refusal, false_refusal)`` of one case: each 1.0, 0.0, or ``None`` if it does not apply.

    A refusal is an abstention on an unanswerable question (good); a false refusal is an
    abstention on an answerable one (bad). Averaged over cases they give the refusal rate
    and the false-refusal rate, two numbers no constant policy can score well on together.

    Example:
        >>> refusals(abstained=True, answerable=False)
        (1.0, None)
        >>> refusals(abstained=True, answerable=True)
        (None, 1.0)
    """
    if answerable:
        return None, float(bool(abstained))
    return float(bool(abstained)), None


def evidence_recall(chunk: str, evidence: str) -> float:
    """Share of the evidence sentence's words found in ``chunk`` (chunks may cut sentences).

    Example:
        >>> evidence_recall("...met Zelenskyy on Friday, February 14.", "met Zelenskyy on Friday")
        1.0
    """
    wanted = set(normalize_keywords(evidence).split())
    if not wanted:
        return 0.0
    present = set(normalize_keywords(chunk).split())
    return len(wanted & present) / len(wanted)


def citation_valid(
    article_id: str,
    text: str,
    gold_ids: Iterable[str],
    evidence: Sequence[str] = (),
    answers: Sequence[str] = (),
    *,
    min_evidence_recall: float = 0.6,
) -> bool:
    """A citation is valid when its chunk belongs to a gold article and supports the answer.

    "Supports" means the chunk contains a gold answer, or at least ``min_evidence_recall``
    of the words of one evidence sentence.

    Example:
        >>> citation_valid("a1", "Mensah scored in the 113th minute.", ["a1"],
        ...                answers=["Mensah"])
        True
        >>> citation_valid("b2", "Mensah scored.", ["a1"], answers=["Mensah"])
        False
    """
    if article_id not in set(gold_ids):
        return False
    chunk = f" {normalize_keywords(text)} "
    for answer in answers:
        needle = normalize_keywords(answer)
        if needle and f" {needle} " in chunk:
            return True
    return any(evidence_recall(text, sentence) >= min_evidence_recall for sentence in evidence)


def citation_validity(
    citations: Sequence[tuple[str, str]],
    gold_ids: Iterable[str],
    evidence: Sequence[str] = (),
    answers: Sequence[str] = (),
) -> float:
    """Fraction of ``(article_id, chunk_text)`` citations that are valid; 0.0 if none.

    An answer without any citation scores 0.0: an uncited claim cannot be checked.

    Example:
        >>> citation_validity([("a", "It rose 5%."), ("z", "noise")], ["a"], answers=["5%"])
        0.5
    """
    if not citations:
        return 0.0
    golds = list(gold_ids)
    valid = sum(citation_valid(aid, text, golds, evidence, answers) for aid, text in citations)
    return valid / len(citations)


# --- summaries -------------------------------------------------------------------------------
def key_fact_coverage(
    summary: str, key_facts: Sequence[Mapping[str, Any]]
) -> tuple[float | None, list[bool]]:
    """Share of key facts whose keywords (all of them) appear in the summary.

    Each key fact is ``{"fact": str, "keywords": [item, ...]}`` where an item is a string
    or a list of alternatives.

    Example:
        >>> facts = [{"fact": "cut", "keywords": ["3.75"]},
        ...          {"fact": "vote", "keywords": [["6 3", "six to three"]]}]
        >>> key_fact_coverage("Rate cut to 3.75% in a 6-3 vote.", facts)
        (1.0, [True, True])
    """
    if not key_facts:
        return None, []
    normalized = normalize_keywords(summary)
    covered = [
        all(has_keyword(normalized, item, normalized=True) for item in fact.get("keywords", []))
        for fact in key_facts
    ]
    return sum(covered) / len(covered), covered


def forbidden_violations(summary: str, forbidden: Sequence[Mapping[str, Any]]) -> list[str]:
    """The forbidden claims a summary makes.

    A claim is ``{"claim": str, "keywords": [...]}`` (made when every keyword appears) or
    ``{"claim": str, "pattern": regex}`` (made when the regex matches the text as
    normalized by :func:`normalize_keywords`).

    Example:
        >>> forbidden_violations("The bank raised its rate.",
        ...     [{"claim": "a hike", "pattern": r"raised (its|the) rate"}])
        ['a hike']
    """
    normalized = normalize_keywords(summary)
    made = []
    for claim in forbidden:
        pattern = claim.get("pattern")
        keywords = claim.get("keywords") or []
        if pattern:
            hit = re.search(pattern, normalized) is not None
        else:
            hit = bool(keywords) and all(
                has_keyword(normalized, item, normalized=True) for item in keywords
            )
        if hit:
            made.append(str(claim.get("claim", pattern or keywords)))
    return made


# --- an independent support check for graded summaries ------------------------------------
_SMALL_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen", "twenty",
)  # fmt: skip
_NUMBER_WORDS = {word: str(value) for value, word in enumerate(_SMALL_NUMBERS)}
_QUOTE_SPAN = re.compile(r"[\"“”]([^\"“”\n]+)[\"“”]")
_CAPITALIZED = re.compile(r"(?<![\w'’])[A-ZÀ-ÖØ-Þ][\w'’-]*")
_NUMBER_TOKEN = re.compile(r"^\d+(?:\.\d+)?$")
_POSSESSIVE = re.compile(r"['’]s$")
_BULLET = re.compile(r"^\s*(?:[-*•–—]|\d{1,2}[.)])\s+")


def unsupported_claims(summary: str, article: str) -> list[str]:
    """Numbers, quoted spans and capitalized words of ``summary`` the article never uses.

    A grading check, independent of the summarizer's own faithfulness check and stricter:
    both texts are normalized with :func:`normalize_keywords`, then every number must be
    a word of the article (``3.50%`` = ``3.5 percent``; ``three`` in the article counts as
    ``3``), every quoted span must occur in the article as a phrase, and every capitalized
    word that does not open a sentence or a line must be a word of the article (no
    allowance for inflections: "Ukrainian" needs "Ukrainian"). An empty summary returns
    ``["empty summary"]``: it supports nothing.

    Example:
        >>> article = "Kofi Mensah scored twice as Lakeport won 3-1, said coach Ana Ruiz."
        >>> unsupported_claims('Lakeport won 3-1 with two goals by Mensah.', article)
        []
        >>> unsupported_claims('Mensah scored 4 times, "a record" said Biden.', article)
        ['number: 4', 'quote: a record', 'name: Biden']
    """
    text = strip_citations(summary or "")
    if not text.strip():
        return ["empty summary"]
    source = normalize_keywords(article)
    words = set(source.split())
    words |= {_NUMBER_WORDS[w] for w in words if w in _NUMBER_WORDS}
    haystack = f" {source} "
    problems: list[str] = []

    def flag(kind: str, item: str) -> None:
        if f"{kind}: {item}" not in problems:
            problems.append(f"{kind}: {item}")

    numbers = [
        t for t in normalize_keywords(_QUOTE_SPAN.sub(" ", text)).split() if _NUMBER_TOKEN.match(t)
    ]
    for number in numbers:
        if number not in words:
            flag("number", number)
    for match in _QUOTE_SPAN.finditer(text):
        quote = normalize_keywords(match.group(1))
        if quote and f" {quote} " not in haystack:
            flag("quote", match.group(1).strip())
    for line in text.splitlines():
        for sentence in split_sentences(_BULLET.sub("", _QUOTE_SPAN.sub(" ", line))):
            for match in _CAPITALIZED.finditer(sentence):
                if not sentence[: match.start()].strip(" \"'“‘(—–-"):
                    continue  # opens the sentence: capitalized for grammar, not as a name
                name = _POSSESSIVE.sub("", match.group(0)).rstrip("'’-")
                if not all(part in words for part in normalize_keywords(name).split()):
                    flag("name", name)
    return problems


@lru_cache(maxsize=1)
def _rouge_scorer() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)


def rouge_scores(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/L F-measures (``rouge-score``, Porter stemmer) of a summary vs a reference.

    Example:
        >>> rouge_scores("the bank cut rates", "the bank cut rates")["rouge1"]
        1.0
    """
    scores = _rouge_scorer().score(reference, strip_citations(prediction))
    return {name: float(score.fmeasure) for name, score in scores.items()}


def lead_n(text: str, n: int = 3) -> str:
    """The lead-n baseline summary: the article's first ``n`` sentences (headings skipped).

    Example:
        >>> lead_n("One. Two. Three. Four.", 3)
        'One. Two. Three.'
    """
    return " ".join(" ".join(lead_sentences(text, n)).split())


def lead_words(text: str, n: int) -> str:
    """The article's first ``n`` words (headings skipped): the lead at a summary's length.

    Compared with a summary of ``n`` words, it asks whether the summary covers more than
    simply reading the article's opening does at the same length.

    Example:
        >>> lead_words("One two three. Four five.", 4)
        'One two three. Four'
    """
    return " ".join(" ".join(lead_sentences(text)).split()[: max(n, 0)])


# --- aggregates ------------------------------------------------------------------------------
def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that are not ``None`` (``None`` when there are none).

    Example:
        >>> mean([1.0, None, 0.0])
        0.5
    """
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def percentile(values: Iterable[float | None], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation, like ``numpy.percentile``.

    Example:
        >>> percentile([1, 2, 3, 4], 50)
        2.5
        >>> percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)
        9.55
    """
    data = sorted(float(v) for v in values if v is not None)
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    position = (len(data) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return data[low]
    return data[low] + (data[high] - data[low]) * (position - low)
