"""Small adapters between Gradio and the handlers, and the queue limits per kind of event.

The tabs (:mod:`rag.ui.tabs`) and the API endpoints (:func:`rag.ui.api.register`) wire
their events with these. Gradio is passed in as ``gr`` (never imported here), so importing
the app does not load it.

Example:
    >>> from types import SimpleNamespace
    >>> session_of(SimpleNamespace(session_hash="tab-1")), session_of(None)
    ('tab-1', None)
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = [
    "GENERATION",
    "LIBRARY_WRITE",
    "Limits",
    "export_file",
    "keep_or_skip",
    "or_unchanged",
    "session_of",
    "with_gradio_args",
]

GENERATION = "generation"  # answers, summaries and digests share the model
LIBRARY_WRITE = "library_write"  # ingest and delete: one at a time


def session_of(request: Any) -> str | None:
    """The browser tab (or API client) an event comes from (its ``gr.Request``)."""
    return getattr(request, "session_hash", None)


def with_gradio_args(gr: Any, fn: Callable[..., Any], **special: str) -> Callable[..., Any]:
    """Let Gradio fill ``fn``'s special arguments, e.g. ``request="Request"`` (gr.Request).

    Gradio finds them through type hints, which must be the real classes here.

    Example:
        >>> from types import SimpleNamespace
        >>> def closed(request=None): ...
        >>> fake_gradio = SimpleNamespace(Request=str)
        >>> with_gradio_args(fake_gradio, closed, request="Request").__annotations__
        {'request': <class 'str'>}
    """
    fn.__annotations__.update({name: getattr(gr, kind) for name, kind in special.items()})
    return fn


def keep_or_skip(gr: Any, value: Any) -> Any:
    """``value``, or "leave the component as it is" for None.

    Example:
        >>> from types import SimpleNamespace
        >>> fake = SimpleNamespace(skip=lambda: "unchanged")
        >>> keep_or_skip(fake, None), keep_or_skip(fake, "")
        ('unchanged', '')
    """
    return gr.skip() if value is None else value


def or_unchanged(gr: Any, updates: Iterable[Any], size: int = 3) -> Iterator[tuple[Any, ...]]:
    """``updates`` as tuples; a single "no change" when there are none (a generator that
    yields nothing would otherwise empty its outputs).

    Example:
        >>> from types import SimpleNamespace
        >>> list(or_unchanged(SimpleNamespace(skip=lambda: "-"), [], size=2))
        [('-', '-')]
    """
    empty = True
    for update in updates:
        empty = False
        yield tuple(update)
    if empty:
        yield (gr.skip(),) * size


def export_file(text: str, name: str) -> str:
    """Write Markdown to a temporary file for the download button; returns its path.

    Example:
        >>> Path(export_file("# Digest", "digest: Ukraine")).name
        'digest-Ukraine.md'
    """
    folder = Path(tempfile.mkdtemp(prefix="news-rag-export-"))
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-")[:60] or "export"
    path = folder / f"{safe}.md"
    path.write_text(text, encoding="utf-8")
    return str(path)


class Limits:
    """Queue settings per kind of event (see :func:`rag.ui.app.build_app`).

    Example:
        >>> Limits(settings).write
        {'concurrency_limit': 1, 'concurrency_id': 'library_write'}
    """

    def __init__(self, settings: Settings) -> None:
        self.generation = {
            "concurrency_limit": settings.ui_concurrency,
            "concurrency_id": GENERATION,
        }
        self.write = {"concurrency_limit": 1, "concurrency_id": LIBRARY_WRITE}
        self.free: dict[str, Any] = {"concurrency_limit": None}
        self.private = {"api_visibility": "private"}
