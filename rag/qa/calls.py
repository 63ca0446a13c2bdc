"""The steps of answering are written once for sync and async use: each step is a generator
that yields the model or retriever :class:`Call` it needs (and the events a stream shows)
and receives the call's result back. A driver makes the calls: :func:`drive` and
:func:`run` with ``invoke``/``stream``, :func:`adrive` and :func:`arun` with
``ainvoke``/``astream``.

Example:
    >>> from langchain_core.runnables import RunnableLambda
    >>> def shout(text):  # a step: one call, then what it returns
    ...     reply = yield Call(RunnableLambda(str.upper), text, model=False)
    ...     return reply + "!"
    >>> run(shout("hello"))
    'HELLO!'
    >>> import asyncio
    >>> asyncio.run(arun(shout("hello")))
    'HELLO!'
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from langchain_core.messages import BaseMessageChunk
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda

from rag.models.llm_errors import translate_llm_errors
from rag.qa.answer import QAEvent, Token

__all__ = [
    "Call",
    "Result",
    "Step",
    "adrive",
    "arun",
    "drive",
    "muted",
    "run",
    "step_runnable",
]

T = TypeVar("T")


class Collector(Protocol):
    """Takes a streamed reply chunk by chunk (e.g. :class:`rag.qa.turn.StreamCollector`)."""

    def take(self, chunk: BaseMessageChunk) -> str: ...  # the answer text a chunk adds

    def close(self) -> str: ...  # the whole reply


@dataclass(frozen=True)
class Call:
    """One call a step needs: ``runnable`` on ``input`` (with ``kwargs``).

    ``model``: a chat model call, whose client errors become readable errors;
    ``collector``: stream the reply into it (its tokens become :class:`Token` events) and
    send back its whole text.

    Example:
        >>> from langchain_core.runnables import RunnableLambda
        >>> call = Call(RunnableLambda(len), "four", model=False)
        >>> call.runnable.invoke(call.input)  # what a sync driver does with it
        4
    """

    runnable: Runnable
    input: Any
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    model: bool = True
    collector: Collector | None = None

    def errors(self) -> AbstractContextManager[None]:
        """Where the call's errors are translated (chat model calls only)."""
        return translate_llm_errors() if self.model else nullcontext()


@dataclass(frozen=True)
class Result(Generic[T]):
    """What a step returned: the last item a driver yields."""

    value: T


Step = Generator[Call | QAEvent, Any, T]
"""A step: yields calls and events, is sent each call's result, returns its outcome."""


def muted(step: Step[T], *kinds: type) -> Step[T]:
    """``step`` without the events of ``kinds`` it yields; its calls and result unchanged.

    Example:
        >>> def greet():
        ...     yield Token("Hi")
        ...     return "done"
        >>> list(drive(muted(greet(), Token)))
        [Result(value='done')]
    """
    reply: Any = None
    while True:
        try:
            item = step.send(reply)
        except StopIteration as done:
            return done.value
        if isinstance(item, kinds):
            reply = None
            continue
        reply = yield item


def drive(step: Step[T], config: RunnableConfig | None = None) -> Iterator[QAEvent | Result[T]]:
    """Run ``step`` making its calls synchronously; yield its events, then its :class:`Result`.

    Example:
        >>> def greet():
        ...     yield Token("Hi")
        ...     return "done"
        >>> list(drive(greet()))
        [Token(text='Hi'), Result(value='done')]
    """
    walk = _Walk(step)
    for item in walk:
        if isinstance(item, Call):
            walk.reply = yield from _call(item, config)
        else:
            yield item
    yield walk.result


def _call(call: Call, config: RunnableConfig | None) -> Generator[Token, None, Any]:
    """Make ``call`` synchronously: a streamed reply's tokens, then its reply (returned)."""
    with call.errors():
        if call.collector is None:
            return call.runnable.invoke(call.input, config, **call.kwargs)
        for chunk in call.runnable.stream(call.input, config, **call.kwargs):
            if text := call.collector.take(chunk):
                yield Token(text)
    return call.collector.close()


async def adrive(
    step: Step[T], config: RunnableConfig | None = None
) -> AsyncIterator[QAEvent | Result[T]]:
    """Async :func:`drive`: the same step, its calls awaited.

    Example:
        >>> import asyncio
        >>> def greet():
        ...     yield Token("Hi")
        ...     return "done"
        >>> async def events():
        ...     return [item async for item in adrive(greet())]
        >>> asyncio.run(events())
        [Token(text='Hi'), Result(value='done')]
    """
    walk = _Walk(step)
    for item in walk:
        if not isinstance(item, Call):
            yield item
        elif item.collector is None:
            with item.errors():
                walk.reply = await item.runnable.ainvoke(item.input, config, **item.kwargs)
        else:
            # an async generator cannot ``yield from``: the stream is written out here
            with item.errors():
                async for chunk in item.runnable.astream(item.input, config, **item.kwargs):
                    if text := item.collector.take(chunk):
                        yield Token(text)
            walk.reply = item.collector.close()
    yield walk.result


class _Walk(Generic[T]):
    """``step`` item by item, for a driver: iterating gives its calls and events in turn; the
    driver sets :attr:`reply` to a call's reply (it is sent back in, ``None`` after an
    event), and :attr:`result` is what the step returned once the iteration ends."""

    def __init__(self, step: Step[T]) -> None:
        self._step = step
        self.reply: Any = None
        self._result: Result[T] | None = None

    def __iter__(self) -> Iterator[Call | QAEvent]:
        while True:
            try:
                item = self._step.send(self.reply)
            except StopIteration as done:
                self._result = Result(done.value)
                return
            self.reply = None
            yield item

    @property
    def result(self) -> Result[T]:
        if self._result is None:
            raise RuntimeError("the step has not finished")
        return self._result


def run(step: Step[T], config: RunnableConfig | None = None) -> T:
    """What ``step`` returns, its calls made synchronously (its events are dropped).

    Example:
        >>> from langchain_core.runnables import RunnableLambda
        >>> def count(text):
        ...     return (yield Call(RunnableLambda(len), text, model=False))
        >>> run(count("four"))
        4
    """
    for item in drive(step, config):
        if isinstance(item, Result):
            return item.value
    raise AssertionError("a driven step always ends with its result")


async def arun(step: Step[T], config: RunnableConfig | None = None) -> T:
    """Async :func:`run`.

    Example:
        >>> import asyncio
        >>> from langchain_core.runnables import RunnableLambda
        >>> def count(text):
        ...     return (yield Call(RunnableLambda(len), text, model=False))
        >>> asyncio.run(arun(count("four")))
        4
    """
    async for item in adrive(step, config):
        if isinstance(item, Result):
            return item.value
    raise AssertionError("a driven step always ends with its result")


def step_runnable(step: Callable[[Any], Step[Any]], name: str) -> Runnable:
    """``step`` as a runnable of a chain, sync and async (the run's config reaches its calls).

    Example:
        >>> def double(n):
        ...     return (yield Call(RunnableLambda(lambda x: 2 * x), n, model=False))
        >>> step_runnable(double, "double").invoke(21)
        42
    """

    def func(value: Any, config: RunnableConfig) -> Any:
        return run(step(value), config)

    async def afunc(value: Any, config: RunnableConfig) -> Any:
        return await arun(step(value), config)

    return RunnableLambda(func, afunc=afunc, name=name)
