"""Lazy re-exports for the subpackages: a public name is imported from its module on
first use, so importing a package is cheap and never loads its siblings.

A package lists its public names by the submodule that defines them, once; its
``__all__`` and ``__getattr__`` are both made from that table.

Example:
    >>> table = {"hybrid": ("HybridRetriever", "SearchFilters"), "lexical": ("BM25Index",)}
    >>> exported_names(table)
    ['BM25Index', 'HybridRetriever', 'SearchFilters']
    >>> getattr_ = exports("rag.retrieval", table)
    >>> getattr_("SearchFilters").__name__
    'SearchFilters'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["exported_names", "exports"]

Table = Mapping[str, Iterable[str]]  # submodule -> the public names it defines


def exported_names(modules: Table) -> list[str]:
    """Every public name of the table, sorted (a package's ``__all__``).

    Example:
        >>> exported_names({"reports": ("StoreStats", "ArticleInfo"), "disk": ("DiskFull",)})
        ['ArticleInfo', 'DiskFull', 'StoreStats']
    """
    return sorted(name for names in modules.values() for name in names)


def exports(package: str, modules: Table) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports the submodule the table names
    for ``name`` on first use and returns its attribute ``name``.

    Example:
        >>> getattr_ = exports("rag.retrieval", {"hybrid": ("SearchFilters",)})
        >>> getattr_("nope")
        Traceback (most recent call last):
        ...
        AttributeError: module 'rag.retrieval' has no attribute 'nope'
    """
    home = {name: module for module, names in modules.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)

    return __getattr__
