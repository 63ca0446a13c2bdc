"""Old names of renamed fields and keywords, kept working with a ``DeprecationWarning``.

A public model field that was renamed still builds from its old keyword
(:func:`renamed_field` for pydantic models, :func:`old_keywords` for dataclasses), still
reads through its old attribute (:class:`OldName`) and, in a :class:`KeepsOldNames` model,
is dumped under both names (API clients and files written before keep their keys); a
renamed keyword parameter is taken through :func:`renamed_argument`. Every warning starts
with ``renamed:``.

Example:
    >>> import warnings
    >>> class Item(KeepsOldNames):
    ...     outlet: str = renamed_field("outlet", "source", default="")
    ...     source = OldName("outlet")
    >>> item = Item(source="Civic Wire")
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     item.source, str(caught[0].message)
    ('Civic Wire', "renamed: 'source' is now 'outlet'")
    >>> item.model_dump()
    {'outlet': 'Civic Wire', 'source': 'Civic Wire'}
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import AliasChoices, BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

__all__ = [
    "KeepsOldNames",
    "OldName",
    "old_keywords",
    "old_names",
    "renamed_argument",
    "renamed_field",
    "warn",
]

T = TypeVar("T")
_Type = TypeVar("_Type", bound=type)


def warn(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` is now called ``new``.

    Example:
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     warn("source", "outlet")
        >>> caught[0].category.__name__
        'DeprecationWarning'
    """
    message = f"renamed: {old!r} is now {new!r}"
    warnings.warn(message, DeprecationWarning, stacklevel=stacklevel)


def renamed_field(new: str, old: str, **field: Any) -> Any:
    """A pydantic field called ``new`` that is also filled from its old keyword ``old``.

    ``field`` holds the usual :func:`pydantic.Field` arguments (``default``, ``description``...).

    Example:
        >>> from pydantic import BaseModel
        >>> class Hit(BaseModel):
        ...     outlets: list[str] = renamed_field("outlets", "sources", default_factory=list)
        >>> Hit(sources=["AP"]).outlets, Hit(outlets=["BBC"]).outlets
        (['AP'], ['BBC'])
    """
    return Field(validation_alias=AliasChoices(new, old), **field)


class OldName(property):
    """The old attribute of a renamed field: reads (and, where allowed, sets) the new one.

    Example:
        >>> class Row:
        ...     outlet = "AP"
        ...     source = OldName("outlet")
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     Row().source
        'AP'
    """

    def __init__(self, new: str) -> None:
        self.new = new
        self.old = ""
        super().__init__(self._get, self._set, doc=f"Deprecated: use ``{new}``.")

    def __set_name__(self, owner: type, name: str) -> None:
        self.old = name

    def _get(self, obj: Any) -> Any:
        warn(self.old, self.new)
        return getattr(obj, self.new)

    def _set(self, obj: Any, value: Any) -> None:
        warn(self.old, self.new)
        setattr(obj, self.new, value)


def old_names(obj: object) -> dict[str, str]:
    """The renamed fields of ``obj``'s class: old name -> new name.

    Example:
        >>> class Row:
        ...     source = OldName("outlet")
        >>> old_names(Row())
        {'source': 'outlet'}
    """
    return dict(_old_names_of(type(obj)))


@functools.cache
def _old_names_of(cls: type) -> dict[str, str]:
    """:func:`old_names` of a class, worked out once: every model dump asks for them."""
    names: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        names.update({k: v.new for k, v in vars(klass).items() if isinstance(v, OldName)})
    return names


class KeepsOldNames(BaseModel):
    """A model whose renamed fields are also dumped under their old names.

    Example:
        >>> class Hit(KeepsOldNames):
        ...     outlets: list[str] = renamed_field("outlets", "sources", default_factory=list)
        ...     sources = OldName("outlets")
        >>> Hit(outlets=["AP"]).model_dump_json()
        '{"outlets":["AP"],"sources":["AP"]}'
    """

    @model_serializer(mode="wrap")
    def _with_old_names(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            data.update({old: data[new] for old, new in old_names(self).items() if new in data})
        return data


def old_keywords(**renamed: str) -> Callable[[_Type], _Type]:
    """Let a dataclass be built from the old keywords of its renamed fields (``old="new"``),
    and read through its old attributes.

    Example:
        >>> from dataclasses import dataclass
        >>> @old_keywords(sources="passages")
        ... @dataclass(frozen=True)
        ... class Found:
        ...     passages: list
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     Found(sources=[1]).passages
        [1]
    """

    def wrap(cls: _Type) -> _Type:
        init = cls.__init__

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            for old, new in renamed.items():
                if old in kwargs:
                    kwargs[new] = renamed_argument(kwargs.get(new), kwargs.pop(old), new, old, 4)
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        for old, new in renamed.items():
            prop = OldName(new)
            prop.__set_name__(cls, old)
            setattr(cls, old, prop)
        return cls

    return wrap


def renamed_argument(
    value: T | None, old_value: T | None, new: str, old: str, stacklevel: int = 4
) -> T | None:
    """The value of keyword ``new``, or of its old name ``old`` (with a warning); not both.

    Example:
        >>> renamed_argument("AP", None, "outlet", "source")
        'AP'
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     renamed_argument(None, "BBC", "outlet", "source")
        'BBC'
    """
    if old_value is None:
        return value
    if value is not None:
        raise TypeError(f"give {new} or {old} (its old name), not both")
    warn(old, new, stacklevel)
    return old_value
