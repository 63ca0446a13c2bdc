"""Article keys: the URLs (or store ids) that datasets name articles by, mapped to store ids.

Datasets never contain store ids: a case names its articles by URL, compared loosely
(scheme, ``www.``, query and a final ``/`` ignored), and :class:`ArticleIndex` resolves
those keys against the articles the store lists.

Example:
    >>> index = ArticleIndex([("id1", "https://a.example/x", "X")])
    >>> index.resolve_gold(["http://a.example/x/", ["https://b.example/y", "id1"], "nope"])
    ([['id1'], ['id1']], ['nope'])
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rag.evaluation import metrics
from rag.text import loose_url_key

__all__ = ["ArticleIndex"]


class ArticleIndex:
    """Maps dataset article keys (URLs or store ids) to store ids; knows chunk counts.

    Example:
        >>> index = ArticleIndex([("id1", "https://a.example/x", "X")], chunks={"id1": 4})
        >>> index.resolve("https://www.a.example/x/"), index.resolve("id1"), index.resolve("?")
        ('id1', 'id1', None)
        >>> index.chunks
        {'id1': 4}
    """

    def __init__(
        self,
        articles: Iterable[tuple[str, str | None, str]],
        chunks: Mapping[str, int] | None = None,
    ) -> None:
        self.chunks: dict[str, int] = dict(chunks or {})  # for the random-retrieval floor
        self.titles: dict[str, str] = {}
        self.urls: dict[str, str] = {}
        self._by_url: dict[str, str] = {}
        for article_id, url, title in articles:
            self.titles[article_id] = title
            self.urls[article_id] = url or ""
            if url:
                self._by_url[loose_url_key(url)] = article_id

    @classmethod
    def from_service(cls, service: Any) -> ArticleIndex:
        """Index every article the service lists."""
        articles = list(service.list_articles())
        return cls(
            ((a.id, a.url, a.title) for a in articles),
            chunks={a.id: int(getattr(a, "chunks", 0) or 0) for a in articles},
        )

    def resolve(self, key: str) -> str | None:
        """The store id for a URL or id, ``None`` when not stored."""
        if key in self.titles:
            return key
        return self._by_url.get(loose_url_key(key))

    def resolve_gold(self, gold: Sequence[metrics.Alternatives]) -> tuple[list[list[str]], list]:
        """Resolve each requirement's alternatives; returns (resolved, keys not found).

        A requirement whose alternatives are all missing is reported; alternatives that
        are missing while another one resolves are dropped silently (a smaller corpus).
        """
        resolved: list[list[str]] = []
        missing: list[Any] = []
        for item in gold:
            alternatives = [item] if isinstance(item, str) else list(item)
            ids = [i for i in (self.resolve(a) for a in alternatives) if i]
            if ids:
                resolved.append(ids)
            else:
                missing.append(item)
        return resolved, missing
