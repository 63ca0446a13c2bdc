"""news-rag: grounded question answering and summaries over news articles.

Example:
    >>> from rag import NewsRAG
    >>> rag = NewsRAG.from_settings()
    >>> rag.ask("What did Hegseth rule out?").answer  # doctest: +SKIP
    'Hegseth ruled out NATO membership for Ukraine as part of any negotiated settlement. [1]'
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["NewsRAG", "Settings", "__version__", "load_settings"]

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.settings import Settings, load_settings


def __getattr__(name: str) -> Any:
    # Lazy: `import rag` stays cheap and has no side effects.
    if name == "NewsRAG":
        from rag.service import NewsRAG

        return NewsRAG
    if name in {"Settings", "load_settings"}:
        from rag import settings

        return getattr(settings, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")
