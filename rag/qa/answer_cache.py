"""Repeated questions served from memory while nothing that shapes the answer changed.

The key covers the question (whitespace-normalized), the chat history, the filters, the
store's generation (it moves on every ingest or delete, in any process), and a
fingerprint of the settings and prompt versions (model, temperature, k, retrieval mode,
...). So an answer is reused only when asking again would run the same pipeline over the
same articles. Entries live in a bounded least-recently-used map per process.

Example:
    >>> cache = AnswerCache(size=2)
    >>> key = AnswerCache.make_key("Who won?", None, None, "gen-1", "settings-a")
    >>> cache.get(key) is None
    True
    >>> cache.put(key, "an Answer object")
    >>> cache.get(key)
    'an Answer object'
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

__all__ = ["AnswerCache"]


class AnswerCache:
    """A thread-safe, size-bounded LRU of answers (``size=0`` turns it off).

    Example:
        >>> AnswerCache(size=0).enabled
        False
    """

    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        """True when answers are kept at all."""
        return self.size > 0

    @staticmethod
    def make_key(
        question: str,
        history: Sequence[tuple[str, str]] | None,
        filters: Any,
        generation: str,
        fingerprint: str,
    ) -> str:
        """A digest of everything that determines an answer.

        Example:
            >>> a = AnswerCache.make_key("Who won?", None, None, "1", "f")
            >>> a == AnswerCache.make_key("Who  won? ", None, None, "1", "f")
            True
            >>> a == AnswerCache.make_key("Who won?", None, None, "2", "f")
            False
        """
        if filters is not None and hasattr(filters, "model_dump"):
            filters = filters.model_dump(mode="json", exclude_none=True)
        raw = json.dumps(
            [
                " ".join(question.split()),
                [list(turn) for turn in history or []],
                filters or None,
                generation,
                fingerprint,
            ],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    def get(self, key: str) -> Any | None:
        """The cached answer for ``key`` (marked most recently used), or None."""
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return answer

    def put(self, key: str, answer: Any) -> None:
        """Keep ``answer`` under ``key``, evicting the least recently used beyond ``size``."""
        if not self.enabled:
            return
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer."""
        with self._lock:
            self._entries.clear()
