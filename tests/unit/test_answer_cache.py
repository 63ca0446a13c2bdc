"""The in-memory answer cache: keys and least-recently-used eviction."""

from __future__ import annotations

import pytest

from rag.qa.answer_cache import AnswerCache
from rag.retrieval.hybrid import SearchFilters

pytestmark = pytest.mark.unit


def key(question: str = "Who won?", **parts: object) -> str:
    values = {"history": None, "filters": None, "generation": "1", "fingerprint": "f"}
    values.update(parts)
    return AnswerCache.make_key(question, **values)  # type: ignore[arg-type]


def test_key_ignores_spacing_but_not_wording():
    assert key("Who won?") == key("  Who   won? ")
    assert key("Who won?") != key("Who lost?")


@pytest.mark.parametrize(
    "change",
    [
        {"history": [("Who played?", "Rovers [1].")]},
        {"filters": SearchFilters(outlets=["Civic Wire"])},
        {"generation": "2"},
        {"fingerprint": "another model"},
    ],
)
def test_key_changes_with_everything_that_shapes_an_answer(change):
    assert key() != key(**change)


def test_least_recently_used_entry_is_evicted():
    cache = AnswerCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the oldest
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    assert (cache.hits, cache.misses) == (3, 1)


def test_size_zero_keeps_nothing():
    cache = AnswerCache(size=0)
    cache.put("a", 1)
    assert not cache.enabled and cache.get("a") is None
