"""Lazy re-exports for the subpackages: a public name is imported from its module on
first use, so importing a package is cheap and never loads its siblings.

Example:
    >>> getattr_ = exports("rag.retrieval", {"SearchFilters": "hybrid"})
    >>> getattr_("SearchFilters").__name__
    'SearchFilters'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["exports"]


def exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``names[name]`` (a submodule
    of ``package``) on first use and returns its attribute ``name``.

    Example:
        >>> getattr_ = exports("rag.retrieval", {"SearchFilters": "hybrid"})
        >>> getattr_("nope")
        Traceback (most recent call last):
        ...
        AttributeError: module 'rag.retrieval' has no attribute 'nope'
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
