"""What a digest covers: one request that the library, the app, the API and the CLI pass whole.

A :class:`DigestRequest` chooses the articles of a digest: exactly ``article_ids``, or else
those a ``topic`` finds (the newest without one), of one ``outlet``, published between
``since`` and ``until``, at most ``limit`` of them. It checks its values once, when it is
built (days as ``YYYY-MM-DD`` and in order, a limit of 1 to 20, at most 20 ids), so a front
end only turns its inputs into a request and shows the :class:`InvalidRequestError` it may
raise.

Example:
    >>> request = DigestRequest(topic=" war in Ukraine ", since="2025-02-01", limit=3)
    >>> request.topic, request.since, request.heading
    ('war in Ukraine', datetime.date(2025, 2, 1), 'Digest: war in Ukraine')
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from rag.errors import InvalidRequestError
from rag.text import parse_range

if TYPE_CHECKING:
    from rag.retrieval.hybrid import SearchFilters

__all__ = ["DEFAULT_DIGEST_LIMIT", "MAX_DIGEST_ARTICLES", "DigestRequest"]

MAX_DIGEST_ARTICLES = 20
DEFAULT_DIGEST_LIMIT = 5


@dataclass(frozen=True)
class DigestRequest:
    """The articles a digest covers; values are checked and tidied when it is built.

    Text is stripped (blank means none); ``since`` and ``until`` may also be given as
    ``YYYY-MM-DD`` text, ``article_ids`` as any sequence (duplicates dropped, order kept).
    Explicit ids win over the other fields; ``limit`` caps an automatic choice.

    Example:
        >>> DigestRequest(outlet="Civic Wire", article_ids=["a1", "a1", "a2"]).article_ids
        ('a1', 'a2')
        >>> DigestRequest(since="2025-03-01", until="2025-02-01")
        Traceback (most recent call last):
        rag.errors.InvalidRequestError: Since (2025-03-01) is after Until (2025-02-01)
        >>> DigestRequest(limit=0)
        Traceback (most recent call last):
        rag.errors.InvalidRequestError: digest limit must be between 1 and 20 (got 0)
    """

    topic: str | None = None
    outlet: str | None = None
    since: date | None = None
    until: date | None = None
    article_ids: tuple[str, ...] = ()
    limit: int = DEFAULT_DIGEST_LIMIT

    def __post_init__(self) -> None:
        try:
            since, until = parse_range(self.since, self.until)
        except ValueError as exc:
            raise InvalidRequestError(str(exc)) from None
        tidy = {
            "topic": _text(self.topic),
            "outlet": _text(self.outlet),
            "since": since,
            "until": until,
            "article_ids": _ids(self.article_ids),
            "limit": _limit(self.limit),
        }
        for name, value in tidy.items():
            object.__setattr__(self, name, value)  # frozen: tidied once, here

    @classmethod
    def of(cls, request: DigestRequest | None = None, **fields: Any) -> DigestRequest:
        """``request`` itself, or one built from keyword fields (the facade's older keyword
        form: ``source`` is accepted for ``outlet``, None for an empty ``article_ids``).

        Example:
            >>> DigestRequest.of(source="Civic Wire", limit=3) == DigestRequest(
            ...     outlet="Civic Wire", limit=3)
            True
        """
        if request is not None:
            if fields:
                raise TypeError(f"give a DigestRequest or its fields, not both: {sorted(fields)}")
            if not isinstance(request, cls):
                raise TypeError(f"expected a DigestRequest, got {type(request).__name__}")
            return request
        if "source" in fields:
            if fields.get("outlet") is not None:
                raise TypeError("give outlet or source (its older name), not both")
            fields["outlet"] = fields.pop("source")
        if fields.get("article_ids") is None:
            fields.pop("article_ids", None)
        return cls(**fields)

    @property
    def heading(self) -> str:
        """The digest's title: ``Digest: <topic>``, or ``Digest``.

        Example:
            >>> DigestRequest().heading
            'Digest'
        """
        return f"Digest: {self.topic}" if self.topic else "Digest"

    def describe(self) -> str:
        """The selection in words, e.g. for a message that nothing matched it.

        Example:
            >>> DigestRequest(topic="Ukraine", outlet="Civic Wire").describe()
            'topic=Ukraine, outlet=Civic Wire'
            >>> DigestRequest().describe()
            'all articles'
        """
        if self.article_ids:
            return f"articles {', '.join(self.article_ids)}"
        named = (
            ("topic", self.topic),
            ("outlet", self.outlet),
            ("since", self.since),
            ("until", self.until),
        )
        return ", ".join(f"{name}={value}" for name, value in named if value) or "all articles"

    def search_filters(self) -> SearchFilters:
        """The retrieval filters of a topic search: the outlet and the dates.

        Example:
            >>> DigestRequest(outlet="AP").search_filters().outlets
            ['AP']
        """
        from rag.retrieval.hybrid import SearchFilters

        outlets = [self.outlet] if self.outlet else None
        return SearchFilters(outlets=outlets, since=self.since, until=self.until)


def _text(value: object) -> str | None:
    """Stripped text, None when blank."""
    text = "" if value is None else str(value).strip()
    return text or None


def _ids(values: Iterable[str] | str | None) -> tuple[str, ...]:
    """Ids in order without blanks or repeats; at most :data:`MAX_DIGEST_ARTICLES`."""
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else values
    ids = tuple(dict.fromkeys(text for v in items if (text := _text(v))))
    if len(ids) > MAX_DIGEST_ARTICLES:
        raise InvalidRequestError(
            f"a digest covers at most {MAX_DIGEST_ARTICLES} articles (got {len(ids)})"
        )
    return ids


def _limit(value: object) -> int:
    """A whole number from 1 to :data:`MAX_DIGEST_ARTICLES`."""
    number = _whole(value)
    if number is None:
        raise InvalidRequestError(f"digest limit must be a whole number (got {value!r})")
    if not 1 <= number <= MAX_DIGEST_ARTICLES:
        raise InvalidRequestError(
            f"digest limit must be between 1 and {MAX_DIGEST_ARTICLES} (got {number})"
        )
    return number


def _whole(value: object) -> int | None:
    """``value`` as an int when it is one: 3, 3.0 (a slider's value) or "3"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None
