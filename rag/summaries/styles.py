"""Summary styles: their length limits, clean-up of model output, and limit enforcement.

Small local models overrun requested lengths ("2-3 sentences" becomes five). Every
style here has a hard limit that is enforced after generation by trimming at a
sentence or bullet boundary (never mid-sentence), and during streaming by a
:class:`StreamGate` that stops the generation as soon as the limit is passed (which
also saves generation time).

Example:
    >>> text, notes = enforce_style("brief", "Vance spoke. Europe reacted. Kyiv waited. Then. Go.")
    >>> text
    'Vance spoke. Europe reacted. Kyiv waited. Then.'
    >>> notes
    ['trimmed from 5 to 4 sentences']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from rag.errors import RagError
from rag.retrieval.lexical import bm25_tokenize
from rag.text import SPEECH_VERBS, sentence_spans, split_sentences

Style = Literal["brief", "bullets", "headline", "quotes"]


@dataclass(frozen=True)
class StyleSpec:
    """One summary style: its prompt file, its unit of length and its limits.

    Example:
        >>> STYLE_SPECS["brief"].max_items
        4
    """

    name: str
    prompt: str
    unit: Literal["sentences", "bullets", "words", "quotes"]
    min_items: int
    max_items: int
    max_tokens: int
    description: str


STYLE_SPECS: dict[str, StyleSpec] = {
    "brief": StyleSpec("brief", "summary_brief", "sentences", 2, 4, 200, "3-4 sentences"),
    "bullets": StyleSpec("bullets", "summary_bullets", "bullets", 3, 6, 320, "3-6 key points"),
    "headline": StyleSpec("headline", "summary_headline", "words", 3, 15, 48, "one line"),
    "quotes": StyleSpec(
        "quotes", "summary_quotes", "quotes", 1, 5, 360, "key direct quotes with speakers"
    ),
}
STYLES: tuple[str, ...] = tuple(STYLE_SPECS)
MAX_BULLET_WORDS = 40
NO_QUOTES_TEXT = "No direct quotes in this article."
DEGENERATE_CHARS = 40


def get_style(style: str) -> StyleSpec:
    """The :class:`StyleSpec` named ``style``; unknown names raise :class:`RagError`.

    Example:
        >>> get_style("headline").max_items
        15
    """
    try:
        return STYLE_SPECS[style]
    except KeyError:
        raise RagError(
            f"unknown summary style {style!r}", hint=f"use one of: {', '.join(STYLES)}"
        ) from None


# --- generic clean-up -------------------------------------------------------------------

_PREAMBLE = re.compile(
    r"^\s*(?:\*\*)?(?:here(?:'s| is| are)\b[^\n]*|(?:brief\s+)?summary|key points|"
    r"bullet points|headline|quotes|key quotes|direct quotes)(?:\*\*)?\s*:\s*(?:\*\*)?\s*$",
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"^\s*(?:\*\*)?(?:summary|headline|title|brief)(?:\*\*)?\s*:\s*(?:\*\*)?\s*", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*(?:[-*•–—]|\d{1,2}[.)])\s+")


def clean_output(raw: str) -> str:
    """Strip code fences, markdown emphasis and preamble lines ("Here is a summary:").

    Example:
        >>> clean_output("Here is a summary:\\n\\n**Vance** spoke.")
        'Vance spoke.'
    """
    text = raw.replace("\r\n", "\n").strip()
    text = re.sub(r"^```[\w-]*\s*\n?|\n?```\s*$", "", text).strip()
    text = text.replace("**", "").replace("__", "")
    lines = text.split("\n")
    while lines and (not lines[0].strip() or _PREAMBLE.match(lines[0])):
        lines.pop(0)
    if lines:
        lines[0] = _LABEL.sub("", lines[0], count=1)
    return "\n".join(lines).strip()


def _words(text: str) -> list[str]:
    return text.split()


# --- per-style enforcement --------------------------------------------------------------


def enforce_style(
    style: str, raw: str, *, quote_checker: Callable[[str], list[str]] | None = None
) -> tuple[str, list[str]]:
    """Clean ``raw`` model output and enforce the style's limits.

    Returns the final text and notes describing what was changed (trims, dropped
    quotes). ``quote_checker(line) -> list of quotes not found in the article`` is used
    by the ``quotes`` style to drop unverifiable quotes.

    Example:
        >>> enforce_style("headline", '"Vance rebukes Europe at Munich."')[0]
        'Vance rebukes Europe at Munich'
    """
    spec = get_style(style)
    text = clean_output(raw)
    if spec.unit == "sentences":
        return _enforce_sentences(text, spec.max_items)
    if spec.unit == "bullets":
        return enforce_bullets(text, spec.max_items)
    if spec.unit == "words":
        return _enforce_headline(text, spec.max_items)
    return _enforce_quotes(text, spec.max_items, quote_checker)


REPEAT_SHARE = 0.75  # a sentence whose content words are mostly said already adds nothing


def _unrepeated(items: list[str], unit: str) -> tuple[list[str], list[str]]:
    """``items`` without repeats, and the note saying how many were left out."""
    kept = without_repeats(items)
    dropped = len(items) - len(kept)
    return kept, [f"left out {dropped} {unit}(s) repeating earlier ones"] if dropped else []


def without_repeats(items: list[str]) -> list[str]:
    """``items`` less those whose content words are mostly (``REPEAT_SHARE``) in earlier
    ones: a small model sometimes restates its first sentence in other words.

    Example:
        >>> without_repeats(["The headset has a Retina display.",
        ...                  "A Retina display is on the headset.", "It costs $3,499."])
        ['The headset has a Retina display.', 'It costs $3,499.']
    """
    kept: list[str] = []
    said: set[str] = set()
    for item in items:
        words = set(bm25_tokenize(item))
        if kept and len(words) >= 2 and len(words & said) >= REPEAT_SHARE * len(words):
            continue
        kept.append(item)
        said |= words
    return kept


def _enforce_sentences(text: str, limit: int) -> tuple[str, list[str]]:
    paragraph = " ".join(_BULLET.sub("", line).strip() for line in text.split("\n"))
    found = split_sentences(re.sub(r"\s+", " ", paragraph).strip())
    sentences, notes = _unrepeated(found, "sentence")
    if len(sentences) > limit:
        notes.append(f"trimmed from {len(sentences)} to {limit} sentences")
        sentences = sentences[:limit]
    return " ".join(sentences), notes


def bullet_items(text: str) -> list[str]:
    """Items of a bulleted or numbered list; continuation lines join their item.

    Text without any bullet markers is split into sentences, one item each.

    Example:
        >>> bullet_items("- one\\n  more\\n2. two")
        ['one more', 'two']
    """
    lines = [line for line in text.split("\n") if line.strip()]
    if not any(_BULLET.match(line) for line in lines):
        return split_sentences(" ".join(line.strip() for line in lines))
    items: list[str] = []
    for line in lines:
        if _BULLET.match(line):
            items.append(_BULLET.sub("", line).strip())
        elif items:
            items[-1] = f"{items[-1]} {line.strip()}"
        # text before the first bullet (a preamble) is dropped
    # an item without a letter or digit is degenerate output such as "- - - -"
    return [re.sub(r"\s+", " ", item) for item in items if re.search(r"[^\W_]", item)]


def enforce_bullets(
    text: str, limit: int, *, max_words: int | None = MAX_BULLET_WORDS
) -> tuple[str, list[str]]:
    """At most ``limit`` bullets ("- " each); an over-long bullet keeps its first sentence.

    Example:
        >>> enforce_bullets("* a.\\n* b.\\n* c.", 2)
        ('- a.\\n- b.', ['trimmed from 3 to 2 bullets'])
    """
    items, notes = _unrepeated(bullet_items(text), "bullet")
    if len(items) > limit:
        notes.append(f"trimmed from {len(items)} to {limit} bullets")
        items = items[:limit]
    if max_words:
        shortened = []
        for item in items:
            if len(_words(item)) > max_words and len(split_sentences(item)) > 1:
                item = split_sentences(item)[0]
                notes.append("shortened a long bullet to its first sentence")
            shortened.append(item)
        items = shortened
    return "\n".join(f"- {item}" for item in items), notes


_HEADLINE_CUTS = (": ", " — ", " – ", " - ", "; ", ", ")


def _enforce_headline(text: str, limit: int) -> tuple[str, list[str]]:
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    line = _BULLET.sub("", lines[0]) if lines else ""
    line = line.lstrip("#").strip()
    line = _LABEL.sub("", line).strip().strip("\"“”'").strip()
    line = line.rstrip(".").strip()
    notes = []
    if len(lines) > 1:
        notes.append("kept the first line only")
    words = _words(line)
    if len(words) > limit:
        notes.append(f"trimmed from {len(words)} to at most {limit} words")
        line = _cut_headline(line, limit)
    return line, notes


def _cut_headline(line: str, limit: int) -> str:
    best = ""
    for sep in _HEADLINE_CUTS:
        index = line.find(sep)
        while index != -1:
            prefix = line[:index].strip()
            if 4 <= len(_words(prefix)) <= limit and len(prefix) > len(best):
                best = prefix
            index = line.find(sep, index + 1)
    return best or " ".join(_words(line)[:limit]).rstrip(",;:-–—")


_QUOTE_SPAN = re.compile(r"“[^”]+”|\"[^\"]+\"")


_SOURCE_QUOTE = re.compile(r"“([^”]+)”|\"([^\"\n]+)\"")
_CHOICE = re.compile(r"^\s*(?:[-*•]\s*)?\[?(\d{1,2})\]?(?:[.):]|\s)\s*(.*)$")
MIN_QUOTE_WORDS = 4
MAX_QUOTATIONS = 30


def extract_quotations(text: str) -> list[str]:
    """The article's own quotations (inside quotation marks), in order, without repeats.

    Quotations shorter than ``MIN_QUOTE_WORDS`` words (scare quotes, single terms) are
    skipped; at most ``MAX_QUOTATIONS`` are kept.

    Example:
        >>> extract_quotations('He called it "not acceptable." Later: “We will not be traded.”')
        ['We will not be traded.']
    """
    found: list[str] = []
    for match in _SOURCE_QUOTE.finditer(text):
        quote = re.sub(r"\s+", " ", (match.group(1) or match.group(2)).strip()).rstrip(",;:")
        if len(quote.split()) >= MIN_QUOTE_WORDS and quote not in found:
            found.append(quote)
    return found[:MAX_QUOTATIONS]


_PRONOUNS = frozenset({"He", "She", "They", "It", "We", "I", "The", "But", "And", "A", "In"})


def speaker_context(text: str, quotation: str, words: int = 10) -> str:
    """Words around ``quotation`` in ``text`` that usually name its speaker.

    The rest of the quotation's sentence (before and after it); when that names nobody
    (only "he said"), the start of the paragraph is added.

    Example:
        >>> text = 'Zelenskyy spoke at length. "We need guarantees now," he told reporters.'
        >>> speaker_context(text, "We need guarantees now")
        'Zelenskyy spoke at length. … he told reporters.'
    """
    at = text.find(quotation)
    if at < 0:
        return ""
    start = text.rfind("\n", 0, at) + 1
    end = text.find("\n", at)
    paragraph = text[start : len(text) if end < 0 else end]
    rel = at - start
    spans = [a for a, b in sentence_spans(paragraph) if a <= rel]
    before = paragraph[spans[-1] if spans else 0 : rel].rstrip(' "“')
    after = paragraph[rel + len(quotation) :].lstrip(',;:.!?"” ')
    after = re.split(r"[\"“]", after, maxsplit=1)[0]  # up to the next quotation
    after = after[: sentence_spans(after)[0][1]] if after.strip() else after
    parts = [" ".join(before.split()[-words:]), " ".join(after.split()[:words])]
    names = set(re.findall(r"[A-Z][\w'’-]+", " ".join(parts))) - _PRONOUNS
    opening = paragraph[: spans[-1] if spans else 0].strip()
    if not names and opening:
        parts.insert(0, " ".join(opening.split()[: words + 6]))
    return " … ".join(p for p in parts if p)


_NAME_TOKEN = r"(?:[A-Z][a-z]{0,2}\.|[A-Z][\w’'-]*[a-z][\w’'-]*|[A-Z]{2,3})"
_NAME_RUN = rf"{_NAME_TOKEN}(?:\s+(?:de |van |von |al-)?{_NAME_TOKEN})*"
_SPEECH = SPEECH_VERBS
_AFTER_NAME = re.compile(rf"^(?P<name>{_NAME_RUN})(?:,[^,\"“]{{1,80}},)?\s+{_SPEECH}\b")
_AFTER_SAID = re.compile(rf"^{_SPEECH}\s+(?P<name>{_NAME_RUN})")
_BEFORE_NAME = re.compile(rf"(?P<name>{_NAME_RUN})(?:,[^,\"“]{{1,90}},)?\s+{_SPEECH}\b[^\"“]*$")
_NOT_NAMES = frozenset(
    re.findall(
        r"\w+",
        "He She They It We I The A An But And In On At As For After Before When While This "
        "That Officials Analysts Monday Tuesday Wednesday Thursday Friday Saturday Sunday Not "
        "No Some Asked Many Most Several Others",
    )
)
_TITLES = re.compile(
    r"^(?:(?:US|U\.S\.|Vice|President|Secretary|Minister|Defense|Defence|State|Prime|Chief|"
    r"General|Gen\.|Governor|Gov\.|Mayor|Deputy|Fire|Director|Senator|Sen\.|Chancellor|"
    r"Foreign|Council|Member|Mr\.|Ms\.|Mrs\.|Dr\.)\s+)+"
)


def _clean_name(name: str | None) -> str | None:
    """Drop leading function words, possessives ("Estonia's") and titles from a name run."""
    if not name:
        return None
    words = name.split()
    while words and (words[0] in _NOT_NAMES or re.search(r"['’]s$", words[0])):
        words.pop(0)
    cleaned = _TITLES.sub("", " ".join(words)).strip()
    if not cleaned or re.search(r"['’]s$", cleaned) or cleaned in _NOT_NAMES:
        return None
    return cleaned


def _full_name(name: str, text: str) -> str:
    """The longest cleaned name in ``text`` ending with ``name`` ("Vance" -> "JD Vance")."""
    runs = [
        _clean_name(r) for r in re.findall(rf"(?:{_NAME_TOKEN}\s+){{1,3}}{re.escape(name)}\b", text)
    ]
    return max((r for r in runs if r and r.endswith(name)), key=len, default=name)


def _direct_speaker(before: str, after: str) -> str | None:
    for pattern, part in ((_AFTER_NAME, after), (_AFTER_SAID, after), (_BEFORE_NAME, before)):
        match = pattern.match(part) if pattern is not _BEFORE_NAME else pattern.search(part)
        name = _clean_name(match.group("name")) if match else None
        if name:
            return name
    return None


def _known_speakers(text: str) -> set[str]:
    """Surnames of everyone the text shows speaking ("X said", "said X", "X told")."""
    found = [
        m.group("name") for m in re.finditer(_BEFORE_NAME.pattern.removesuffix(r"[^\"“]*$"), text)
    ]
    found += [m.group("name") for m in re.finditer(_AFTER_SAID.pattern.lstrip("^"), text)]
    return {n.split()[-1] for n in (_clean_name(f) for f in found) if n}


def _ends_sentence(quotation: str, after: str) -> bool:
    return quotation.rstrip().endswith(".") or after.lstrip('"” ').startswith(".")


def find_speakers(text: str, quotations: list[str]) -> list[str | None]:
    """Who said each quotation according to ``text`` (a cheap "X said" heuristic).

    Looks right after the quotation ("…," Vance told reporters; "…," said Fiona Larkin),
    then earlier in its sentence (Kallas said that any deal "…"); otherwise ("he said")
    the previous speaker in the same paragraph, else the paragraph's first name.
    None when nothing fits.

    Example:
        >>> t = 'JD Vance spoke. "We want the war to end," Vance told reporters. "Now."'
        >>> find_speakers(t, ["We want the war to end", "Now."])
        ['JD Vance', 'JD Vance']
    """
    speakers: list[str | None] = []
    last: dict[int, str] = {}
    known = _known_speakers(text)
    for quotation in quotations:
        at = text.find(quotation)
        if at < 0:
            speakers.append(None)
            continue
        start = text.rfind("\n", 0, at) + 1
        end = text.find("\n", at)
        paragraph = text[start : len(text) if end < 0 else end]
        rel = at - start
        after = paragraph[rel + len(quotation) :]
        # '"… a good start." Tom Lind said …' starts the next sentence: not this quote's speaker
        after = "" if _ends_sentence(quotation, after) else after.lstrip(',;:.!?"” ')
        sentence_start = max([a for a, _ in sentence_spans(paragraph) if a <= rel] or [0])
        before = paragraph[sentence_start:rel].rstrip(' "“')
        name = _direct_speaker(before, after) or last.get(start)
        if name is None:  # "he said": the paragraph's first name of a known speaker
            opening = re.sub(r"[\"“][^\"”]*[\"”]", " ", paragraph)
            names = (re.sub(r"['’]s\b", "", n) for n in re.findall(_NAME_RUN, opening))
            candidates = (_clean_name(n) for n in names)
            name = next((n for n in candidates if n and n.split()[-1] in known), None)
        if name:
            name = _full_name(name, text)
            last[start] = name
        speakers.append(name)
    return speakers


def number_quotations(quotations: list[str], text: str = "") -> str:
    """The quotations as numbered lines for the prompt, with their speakers from ``text``.

    A speaker found by :func:`find_speakers` is given; otherwise the words around the
    quotation (:func:`speaker_context`) so that the model can tell.

    Example:
        >>> number_quotations(["We want peace now.", "Not a pause."])
        '[1] "We want peace now."\\n[2] "Not a pause."'
    """
    speakers = find_speakers(text, quotations) if text else [None] * len(quotations)
    lines = []
    for n, (quote, speaker) in enumerate(zip(quotations, speakers, strict=True), start=1):
        context = speaker_context(text, quote) if text and not speaker else ""
        hint = f" — {speaker}" if speaker else f" (context: {context})" if context else ""
        lines.append(f'[{n}] "{quote}"{hint}')
    return "\n".join(lines)


def render_quote_choice(
    line: str, quotations: list[str], speakers: list[str | None] | None = None
) -> str | None:
    """Turn a model line "[3] Speaker name" into '- "quotation 3" — Speaker name'.

    A speaker found in the article (``speakers[2]``) wins over the model's. Lines that
    already hold a quotation are returned unchanged (they are verified later); lines
    that are neither return None.

    Example:
        >>> render_quote_choice("[2] Ruth Okafor, deputy fire chief", ["a b c d", "Go now."])
        '- "Go now." — Ruth Okafor, deputy fire chief'
    """
    match = _CHOICE.match(line)
    if match and 1 <= int(match.group(1)) <= len(quotations):
        number = int(match.group(1))
        speaker = _QUOTE_SPAN.sub(" ", match.group(2))
        speaker = re.sub(r"\s+", " ", speaker).strip(" \t\"'“”—–-:,.")
        speaker = re.sub(r"^(?:said by|by|speaker:?)\s+", "", speaker, flags=re.IGNORECASE)
        speaker = _from_context_hint(speaker)
        if speakers and speakers[number - 1]:
            speaker = str(speakers[number - 1])
        quote = quotations[number - 1]
        return f'- "{quote}" — {speaker}' if speaker else f'- "{quote}"'
    if _QUOTE_SPAN.search(line):
        return line.strip()
    return None


def _from_context_hint(speaker: str) -> str:
    """The name a model copied out of our "(context: ...)" hint, or the speaker as written.

    Example:
        >>> _from_context_hint("(context: Kessling, who led the police, said")
        'Kessling'
    """
    hint = re.match(r"^\(?context:\s*(?P<rest>.*)", speaker, flags=re.IGNORECASE)
    if not hint:
        return speaker
    names = (_clean_name(n) for n in re.findall(_NAME_RUN, hint.group("rest")))
    return next((n for n in names if n), "")


def render_quote_choices(
    raw: str, quotations: list[str], speakers: list[str | None] | None = None
) -> str:
    """Render every line of the model's quote choices (see :func:`render_quote_choice`).

    Example:
        >>> render_quote_choices("Here you go:\\n[1] Vance", ["We want the war to end."])
        '- "We want the war to end." — Vance'
    """
    lines = clean_output(raw).split("\n")
    rendered = (render_quote_choice(line, quotations, speakers) for line in lines)
    return "\n".join(line for line in rendered if line)


def _enforce_quotes(
    text: str, limit: int, quote_checker: Callable[[str], list[str]] | None
) -> tuple[str, list[str]]:
    items = [item for item in bullet_items(text) if _QUOTE_SPAN.search(item)]
    notes: list[str] = []
    kept = []
    for item in items:
        missing = quote_checker(item) if quote_checker else []
        if missing:
            notes.append(f"dropped a quote not found verbatim in the article: {missing[0]}")
            continue
        kept.append(item)
    if len(kept) > limit:
        notes.append(f"trimmed from {len(kept)} to {limit} quotes")
        kept = kept[:limit]
    if not kept:
        return NO_QUOTES_TEXT, notes
    return "\n".join(f"- {item}" for item in kept), notes


# --- streaming --------------------------------------------------------------------------


class StreamGate:
    """Pass streamed tokens through until a style's limit is exceeded, then stop.

    ``feed(token)`` returns the text that may be shown now; ``done`` turns True once the
    output has gone past the limit (the caller should stop generating). ``text`` is
    everything received up to the limit, for the final clean-up.

    Example:
        >>> gate = StreamGate("sentences", 1)
        >>> gate.feed("One. ") + gate.feed("Two.")
        'One. '
        >>> gate.done
        True
    """

    def __init__(self, unit: str, limit: int) -> None:
        self.unit = unit
        self.limit = limit
        self.text = ""
        self.done = False
        self._emitted = 0

    def feed(self, token: str) -> str:
        """Add ``token``; return the newly showable text ("" when nothing is)."""
        if self.done:
            return ""
        self.text += token
        stop = self._stop_index()
        if stop is not None:
            self.done = True
            self.text = self.text[:stop]
            visible = self.text.rstrip()
        else:
            visible = self.text
        out = visible[self._emitted :]
        self._emitted = max(self._emitted, len(visible))
        return out

    def _stop_index(self) -> int | None:
        tail = self.text[-DEGENERATE_CHARS:]
        if len(tail) == DEGENERATE_CHARS and not re.search(r"[^\W_]", tail):
            # a long run without letters or digits ("- - - -"): a small model looping
            return len(self.text.rstrip("-*•–—.,;: \n\t"))
        if self.unit == "sentences":
            spans = sentence_spans(self.text)
            return spans[self.limit][0] if len(spans) > self.limit else None
        if self.unit == "words":
            stripped = self.text.lstrip()
            offset = len(self.text) - len(stripped)
            newline = stripped.find("\n")
            return offset + newline if newline > 0 else None
        if self.unit == "quotes":  # "[n] speaker" choices, or lines holding a quotation
            pattern = r"(?m)^[ \t]*(?:[-*•][ \t]*)?(?:\[?\d{1,2}\]?[.):]?\s|[\"“])"
        else:
            pattern = r"(?m)^\s*(?:[-*•–—]|\d{1,2}[.)])\s"
        starts = [m.start() for m in re.finditer(pattern, self.text)]
        return starts[self.limit] if len(starts) > self.limit else None
