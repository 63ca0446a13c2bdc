"""Methods a class hands on to one of its attributes, shown as that attribute's own.

The facade answers questions through :class:`rag.qa.cached_answers.CachedAnswers`;
rather than re-list each signature and only pass the arguments on, it takes the method
with :func:`forwarded`, so ``help`` and ``inspect.signature`` show the real parameters
and docstring.

Example:
    >>> class Greeter:
    ...     def hello(self, name, *, loud=False):
    ...         '''Greet ``name``.'''
    ...         return f"HELLO {name.upper()}" if loud else f"hello {name}"
    >>> class Desk:
    ...     hello = forwarded("greeter", Greeter.hello)
    ...     def __init__(self):
    ...         self.greeter = Greeter()
    >>> Desk().hello("Ana", loud=True)
    'HELLO ANA'
    >>> import inspect
    >>> str(inspect.signature(Desk.hello)), Desk.hello.__doc__
    ('(self, name, *, loud=False)', 'Greet ``name``.')
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, TypeVar

__all__ = ["forwarded"]

P = ParamSpec("P")
R = TypeVar("R")


def forwarded(
    attribute: str, method: Callable[Concatenate[Any, P], R]
) -> Callable[Concatenate[Any, P], R]:
    """A method that calls ``method``'s namesake on ``self.<attribute>`` with its arguments,
    carrying ``method``'s name, signature and docstring.

    The namesake is looked up on each call, so a replaced attribute (a fake in a test) is
    the one called.

    Example:
        >>> class Desk:
        ...     upper = forwarded("text", str.upper)
        ...     def __init__(self, text):
        ...         self.text = text
        >>> Desk("ok").upper()
        'OK'
    """
    name = method.__name__

    @functools.wraps(method)
    def forward(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        return getattr(getattr(self, attribute), name)(*args, **kwargs)

    return forward
