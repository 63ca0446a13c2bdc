"""Questions answered through the answer cache: a repeat is replayed, a new answer is kept.

:class:`CachedAnswers` wraps the answer service of the facade's parts
(:class:`rag.components.Components`) for its four ways of asking (whole, streamed text,
streamed events, async). The key covers the question, history, filters, the store
generation and a fingerprint of the settings and prompt versions (see :mod:`rag.qa.answer_cache`).

Example:
    >>> answers = CachedAnswers(rag.components)
    >>> answers.key("Who won?", None, None) == answers.key("Who  won?", None, None)
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rag.components import Components
    from rag.qa.answer import Answer, QAEvent
    from rag.retrieval.hybrid import SearchFilters
    from rag.service import History

__all__ = ["CachedAnswers"]


class CachedAnswers:
    """The facade's questions, answered from its answer cache while nothing changed.

    Reads the facade's parts (``qa``, ``answer_cache``, ``store``, ``settings``) when a
    question comes, so building it starts nothing. The facade shows these methods as its
    own (``rag.ask`` is :meth:`ask`, see :func:`rag.delegate.forwarded`), so their
    docstrings speak to its users and their examples go through ``rag``.

    Example (needs the LLM):
        >>> answers = CachedAnswers(rag.components)
        >>> answers.ask("What did Hegseth rule out?").cached  # doctest: +SKIP
        False
    """

    def __init__(self, parts: Components) -> None:
        self._parts = parts

    def ask(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Answer:
        """Answer a question from the articles, with numbered citations.

        ``history`` is the conversation so far as ``(user, assistant)`` pairs; a follow-up
        is rewritten into a standalone question first. The same question asked again while
        nothing changed is answered from the cache.

        Example (needs the LLM):
            >>> a = rag.ask("What did Hegseth rule out?")  # doctest: +SKIP
            >>> print(a.answer)  # doctest: +SKIP
            Hegseth ruled out NATO membership for Ukraine as part of any negotiated settlement. [1]
            >>> a.citations[0].title  # doctest: +SKIP
            'Vance and Zelenskyy meet in Munich as Washington redraws its Ukraine policy'
        """
        key = self.key(question, history, filters)
        cache = self._parts.answer_cache
        if key and (hit := cache.get(key)) is not None:
            return hit
        answer = self._parts.qa.ask(question, history=history, filters=filters)
        if key:
            cache.put(key, _as_cached(answer))
        return answer

    def stream(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Iterator[str | Answer]:
        """Stream answer tokens as they are generated; the last item is the full ``Answer``.

        A cached answer comes as one piece.

        Example (needs the LLM):
            >>> for piece in rag.stream("Who met in Munich?"):  # doctest: +SKIP
            ...     print(piece if isinstance(piece, str) else "", end="")
        """
        key = self.key(question, history, filters)
        if key and (hit := self._parts.answer_cache.get(key)) is not None:
            return iter([hit.answer, hit])
        return self._caching(self._parts.qa.stream(question, history=history, filters=filters), key)

    def stream_events(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> Iterator[QAEvent]:
        """Stream the answer as events: ``Stage``, ``PassagesFound`` (before any token),
        ``Token``s, then ``Done`` with the full ``Answer``. Closing the iterator early stops
        the model. A cached answer comes as its passages, one token and ``Done``.

        Example (needs the LLM):
            >>> from rag.qa.answer import PassagesFound
            >>> for event in rag.stream_events("Who met in Munich?"):  # doctest: +SKIP
            ...     if isinstance(event, PassagesFound):
            ...         print([s.title for s in event.passages])
        """
        from rag.qa.answer import Done, PassagesFound, Token

        key = self.key(question, history, filters)
        if key and (hit := self._parts.answer_cache.get(key)) is not None:
            return iter([PassagesFound(list(hit.passages)), Token(hit.answer), Done(hit)])
        events = self._parts.qa.stream_events(question, history=history, filters=filters)
        return self._caching_events(events, key)

    def astream(
        self, question: str, *, history: History | None = None, filters: SearchFilters | None = None
    ) -> AsyncIterator[str | Answer]:
        """Async version of :meth:`stream`.

        Example (needs the LLM):
            >>> async for piece in rag.astream("Who met in Munich?"):  # doctest: +SKIP
            ...     pass
        """
        key = self.key(question, history, filters)
        if key and (hit := self._parts.answer_cache.get(key)) is not None:
            return _replay(hit)
        pieces = self._parts.qa.astream(question, history=history, filters=filters)
        return self._acaching(pieces, key)

    def key(
        self, question: str, history: History | None, filters: SearchFilters | None
    ) -> str | None:
        """The answer-cache key, or None when the cache is off.

        Example:
            >>> len(CachedAnswers(rag.components).key("Who won?", None, None))
            64
        """
        cache = self._parts.answer_cache
        if not cache.enabled:
            return None
        generation = self._parts.store.generation()
        return cache.make_key(question, history, filters, generation, self._fingerprint)

    @cached_property
    def _fingerprint(self) -> str:
        """Settings and prompt versions: fixed for the facade's life, computed once."""
        return f"{self._parts.settings.model_dump_json()}|{self._parts.qa.prompt_versions}"

    def _caching(self, pieces: Iterator[str | Answer], key: str | None) -> Iterator[str | Answer]:
        for piece in pieces:
            if key and not isinstance(piece, str):
                self._parts.answer_cache.put(key, _as_cached(piece))
            yield piece

    def _caching_events(self, events: Iterator[QAEvent], key: str | None) -> Iterator[QAEvent]:
        from rag.qa.answer import Done

        with contextlib.closing(events):  # closed early: the model's stream closes too
            for event in events:
                if key and isinstance(event, Done):
                    self._parts.answer_cache.put(key, _as_cached(event.answer))
                yield event

    async def _acaching(
        self, pieces: AsyncIterator[str | Answer], key: str | None
    ) -> AsyncIterator[str | Answer]:
        async for piece in pieces:
            if key and not isinstance(piece, str):
                self._parts.answer_cache.put(key, _as_cached(piece))
            yield piece


def _as_cached(answer: Answer) -> Answer:
    """The copy the cache hands out: marked cached, without the first run's costs."""
    return answer.model_copy(
        update={"cached": True, "timings": {}, "prompt_tokens": None, "completion_tokens": None}
    )


async def _replay(answer: Answer) -> AsyncIterator[str | Answer]:
    """A cached answer as a stream: its text, then the answer itself."""
    yield answer.answer
    yield answer
