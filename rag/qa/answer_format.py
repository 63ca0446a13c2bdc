"""The evidence-first reply format: ``{"evidence": [sentence numbers], "answer": "..."}``.

The model names the evidence sentences before it writes the answer, so it commits to what
the articles say first; citations come from those numbers and are valid by construction.
With the embedded model (and any endpoint that supports OpenAI's ``response_format``
JSON schema) the reply is constrained to this shape and to the sentence numbers shown.
Plain-text replies with ``[n]`` markers are accepted too, for endpoints without
constrained output.

Example:
    >>> reply = parse_reply('{"evidence": [2], "answer": "A 3 million budget."}', [1, 2])
    >>> reply.evidence, reply.answer
    ([2], 'A 3 million budget.')
    >>> stream = AnswerStream()
    >>> stream.feed('{"evidence": [2], "answ') + stream.feed('er": "Yes \\\\"ok\\\\"."}')
    'Yes "ok".'
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "NOT_FOUND",
    "AnswerStream",
    "EvidenceReply",
    "PlainAnswerStream",
    "first_token_probability",
    "no_evidence_probability",
    "parse_reply",
    "reply_schema",
    "says_not_found",
]

MAX_EVIDENCE = 4
MAX_ANSWER_CHARS = 600
_MARKER = re.compile(r"\s*\[(\d+)\]")
_ANSWER_KEY = re.compile(r'"answer"\s*:\s*"')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def reply_schema(numbers: Sequence[int], max_evidence: int = MAX_EVIDENCE) -> dict[str, Any]:
    """JSON schema of a reply: evidence numbers (from ``numbers`` only), then the answer.

    Example:
        >>> reply_schema([1, 2])["properties"]["evidence"]["items"]
        {'type': 'integer', 'enum': [1, 2]}
    """
    items: dict[str, Any] = {"type": "integer"}
    if numbers:
        items["enum"] = list(numbers)
    return {
        "type": "object",
        "properties": {
            "evidence": {"type": "array", "items": items, "maxItems": max_evidence},
            "answer": {"type": "string", "maxLength": MAX_ANSWER_CHARS},
        },
        "required": ["evidence", "answer"],
        "additionalProperties": False,
    }


@dataclass
class EvidenceReply:
    """A parsed reply: the chosen sentence numbers (valid ones only) and the answer text.

    Example:
        >>> EvidenceReply(evidence=[], answer="").empty
        True
    """

    evidence: list[int] = field(default_factory=list)
    answer: str = ""
    structured: bool = True
    invalid_numbers: list[int] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """No evidence or no answer: the model found nothing that answers the question."""
        return not self.evidence or not self.answer.strip()


def parse_reply(text: str, valid: Sequence[int]) -> EvidenceReply:
    """Read a JSON reply, or a plain-text one whose ``[n]`` markers name the evidence.

    Example:
        >>> parse_reply("Ana Ruiz won [1] [7].", [1, 2]).evidence
        [1]
        >>> parse_reply('{"evidence": [], "answer": ""}', [1]).empty
        True
    """
    allowed = set(valid)
    data = _json_object(text)
    if data is not None:
        raw_numbers = data.get("evidence") or []
        numbers = [n for n in raw_numbers if isinstance(n, int) and not isinstance(n, bool)]
        answer = str(data.get("answer") or "")
        structured = True
    else:
        numbers = [int(n) for n in _MARKER.findall(text or "")]
        answer, structured = text or "", False
    answer = " ".join(_MARKER.sub("", answer).split())
    chosen = list(dict.fromkeys(n for n in numbers if n in allowed))
    invalid = [n for n in numbers if n not in allowed]
    return EvidenceReply(chosen, answer, structured, invalid)


def _json_object(text: str) -> dict[str, Any] | None:
    text = (text or "").strip()
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) and "answer" in data else None


class AnswerStream:
    """Pulls the ``answer`` string out of a JSON reply as it streams, unescaped.

    Plain-text replies (no JSON) pass through unchanged.

    Example:
        >>> s = AnswerStream()
        >>> [s.feed(p) for p in ['{"evidence":[1],', '"answer":"Ru', 'iz\\\\n"}']]
        ['', 'Ru', 'iz\\n']
    """

    def __init__(self) -> None:
        self.raw = ""
        self._pos: int | None = None  # where the answer string's unread part starts
        self._done = False
        self._plain: bool | None = None

    def feed(self, piece: str) -> str:
        """Take the next streamed piece; return the answer text it completes ('' if none)."""
        self.raw += piece
        if self._plain is None and self.raw.strip():
            self._plain = not self.raw.lstrip().startswith("{")
        if self._plain:
            return piece
        if self._done:
            return ""
        if self._pos is None:
            match = _ANSWER_KEY.search(self.raw)
            if match is None:
                return ""
            self._pos = match.end()
        return self._read()

    def _read(self) -> str:
        assert self._pos is not None
        out: list[str] = []
        i, raw = self._pos, self.raw
        while i < len(raw):
            char = raw[i]
            if char == '"':
                self._done = True
                i += 1
                break
            if char != "\\":
                out.append(char)
                i += 1
                continue
            if i + 1 >= len(raw):
                break  # an escape split across pieces: wait for the rest
            code = raw[i + 1]
            if code == "u":
                if i + 6 > len(raw):
                    break
                with contextlib.suppress(ValueError):
                    out.append(chr(int(raw[i + 2 : i + 6], 16)))
                i += 6
            else:
                out.append(_ESCAPES.get(code, code))
                i += 2
        self._pos = i
        return "".join(out)


def no_evidence_probability(logprobs: Any) -> float | None:
    """The model's probability of an empty evidence list, from OpenAI-style ``logprobs``.

    Read at the token that opens the list (the first one containing ``[``): the share of
    its top alternatives that close the list at once. The alternatives are the model's own
    preferences before the reply format is enforced, so a constrained reply still shows
    how close the model came to saying that nothing answers the question.

    Example:
        >>> lp = {"content": [{"token": '{"evidence":', "top_logprobs": []},
        ...       {"token": " [", "top_logprobs": [{"token": " [", "logprob": -0.1},
        ...                                         {"token": " [],", "logprob": -2.3}]}]}
        >>> round(no_evidence_probability(lp), 3)
        0.1
        >>> no_evidence_probability(None) is None
        True
    """
    content = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
    for entry in content or []:
        if "[" not in str(entry.get("token", "")):
            continue
        alternatives = entry.get("top_logprobs") or []
        if not alternatives:
            return None
        return sum(
            math.exp(float(alt["logprob"]))
            for alt in alternatives
            if str(alt.get("token", "")).strip().startswith("[]")
        )
    return None


def first_token_probability(logprobs: Any, word: str) -> float | None:
    """The model's probability of starting its reply with ``word``, from OpenAI-style
    ``logprobs``: the share of the first token's top alternatives that begin ``word``
    (or are ``word`` with punctuation after it).

    Example:
        >>> lp = {"content": [{"token": "Two", "top_logprobs": [
        ...     {"token": "Two", "logprob": -0.2}, {"token": "Unknown", "logprob": -1.9}]}]}
        >>> round(first_token_probability(lp, "Unknown"), 2)
        0.15
        >>> first_token_probability({"content": []}, "Unknown") is None
        True
    """
    content = (logprobs or {}).get("content") if isinstance(logprobs, dict) else None
    if not content:
        return None
    alternatives = content[0].get("top_logprobs") or []
    if not alternatives:
        return None
    return sum(
        math.exp(float(alt["logprob"]))
        for alt in alternatives
        if _begins(str(alt.get("token", "")).strip(), word)
    )


def _begins(token: str, word: str) -> bool:
    """True when ``token`` is the start of ``word`` (3+ letters) or ``word`` itself."""
    bare = token.rstrip(".:,!")
    return len(bare) >= 3 and (word.startswith(bare) or bare == word)


NOT_FOUND = "Unknown."
"""What the model replies when the excerpts do not hold the answer. One distinctive first
word, so its probability can be read from the first token (``first_token_probability``);
users see the product's own refusal text instead."""


def says_not_found(text: str) -> bool:
    """True when a plain reply is the not-found word.

    Example:
        >>> says_not_found(" Unknown."), says_not_found("Unknown numbers of people fled.")
        (True, False)
    """
    return text.strip().rstrip(".!").strip().lower() == NOT_FOUND.rstrip(".").lower()


class PlainAnswerStream:
    """Passes a plain reply through as it streams, except while it may still be the
    not-found word (which is never shown).

    Example:
        >>> stream = PlainAnswerStream()
        >>> [stream.feed(p) for p in ["Unk", "nown", "."]]
        ['', '', '']
        >>> stream = PlainAnswerStream()
        >>> [stream.feed(p) for p in ["Un", "til 2027", " it"]]
        ['', 'Until 2027', ' it']
    """

    def __init__(self) -> None:
        self._held = ""
        self._open = False

    def feed(self, raw: str) -> str:
        """Add one streamed piece; return the text that can be shown now."""
        if self._open:
            return raw
        self._held += raw
        bare = self._held.strip()
        if NOT_FOUND.startswith(bare) or says_not_found(bare):
            return ""
        self._open = True
        return self._held
