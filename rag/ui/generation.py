"""A summary or a digest while it runs, as plain updates the page and the JSON API each render.

:class:`Generations` starts a summary or a digest as a stoppable :class:`rag.ui.runs.Run`
of the caller's session, logs how it went, and yields :class:`Update`\\ s: the text so far
and what the model is doing, then the result or the reason it stopped. The page shows each
update as Markdown (:mod:`rag.ui.handlers.summaries`); the API sends the ones where the
text grew as JSON (:mod:`rag.ui.api`). :func:`follow` turns what a run delivers (text, a digest's
article :class:`Step`\\ s, heartbeats, the result) into those updates; :class:`Timing`
records when the parts of a generation arrived, for its log line.

Example:
    >>> from rag.ui.runs import Runs
    >>> run = Runs().start("summary", session=None)
    >>> updates = list(follow(run, lambda run: iter(["Rates ", "fell.", 42]), Timing("s")))
    >>> [(u.text, u.grew) for u in updates[:3]], updates[-1].result
    ([('', False), ('Rates ', True), ('Rates fell.', True)], 42)
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rag.ui.runs import Run, Runs, Tick

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.summaries.request import DigestRequest

__all__ = ["Generations", "Step", "Timing", "Update", "follow"]

logger = logging.getLogger(__name__)

Tokens = tuple[int | None, int | None]


@dataclass
class Timing:
    """When the parts of one generation arrived, for its log line.

    Example:
        >>> timing = Timing("question")
        >>> timing.line("done").startswith("question done: first token -, total ")
        True
    """

    kind: str
    started: float = field(default_factory=time.perf_counter)
    marks: dict[str, float] = field(default_factory=dict)
    tokens: tuple[int | None, int | None] = (None, None)
    extra: str = ""

    def mark(self, name: str) -> None:
        """Remember the first time ``name`` happened (e.g. ``sources``, ``first token``)."""
        self.marks.setdefault(name, time.perf_counter() - self.started)

    def line(self, outcome: str) -> str:
        """``question done: sources 0.05 s, first token 6.20 s, total 9.80 s, ...``"""
        parts = [f"{name} {seconds:.2f} s" for name, seconds in self.marks.items()]
        if "first token" not in self.marks:
            parts.append("first token -")
        parts.append(f"total {time.perf_counter() - self.started:.2f} s")
        prompt, completion = self.tokens
        if prompt is not None or completion is not None:
            parts.append(
                f"tokens {prompt if prompt is not None else '-'} in / "
                f"{completion if completion is not None else '-'} out"
            )
        if self.extra:
            parts.append(self.extra)
        return f"{self.kind} {outcome}: " + ", ".join(parts)


@dataclass(frozen=True)
class Step:
    """A digest's article summaries: ``done`` of ``total`` finished.

    Example:
        >>> Step(0, 3, "").describe(), Step(3, 3, "Rates").describe()
        ('Summarizing article 1 of 3', 'Writing the digest')
    """

    done: int
    total: int
    title: str

    def describe(self) -> str:
        """What the digest is doing now."""
        if self.done >= self.total:
            return "Writing the digest"
        return f"Summarizing article {self.done + 1} of {self.total}"


@dataclass(frozen=True)
class Update:
    """One view of a running summary or digest.

    ``text`` is what the model wrote so far and ``grew`` whether this update added to it;
    ``status`` says what it is doing, with its seconds. The last update carries the
    ``result`` (a ``Summary`` or ``Digest``), or ``stopped``: why it ended without one.

    Example:
        >>> Update("Rates fell", "Summarizing… 2 s", grew=True).finished
        False
    """

    text: str = ""
    status: str = ""
    grew: bool = False
    result: Any = None
    stopped: str | None = None

    @property
    def finished(self) -> bool:
        """True on the last update (a result, or a stop)."""
        return self.result is not None or self.stopped is not None


def follow(
    run: Run, start: Callable[[Run], Iterable[Any]], timing: Timing, step: str = "Working"
) -> Iterator[Update]:
    """Run ``start(run)``'s stream in ``run`` and yield an :class:`Update` for each thing that
    arrives: first the ``step`` at 0 s, then the text as it grows, a digest's steps and a
    heartbeat every second; last the result, or (stopped) the text written before the stop.

    Example:
        >>> from rag.ui.runs import Runs
        >>> run = Runs().start("digest", session=None)
        >>> list(follow(run, lambda run: iter([]), Timing("digest"), "Choosing"))[-1].stopped
        'stopped'
    """
    yield Update(status=f"{step}… 0 s")
    text, result = "", None
    with contextlib.closing(run.items(lambda: start(run))) as items:
        for piece in items:
            grew = isinstance(piece, str)
            if isinstance(piece, Step):
                step = piece.describe()
            elif grew:
                timing.mark("first token")
                text += piece
            elif not isinstance(piece, Tick):
                result = piece
            if result is None:
                yield Update(text, f"{step}… {int(run.elapsed)} s", grew=grew)
    if result is None:
        yield Update(text, stopped=run.reason or "stopped")
    else:
        yield Update(text, result=result)


class Generations:
    """Summaries and digests as stoppable runs of the caller's session, for the page and the
    API alike: each method yields :class:`Update`\\ s (none when the request was stopped
    while it waited in the queue), raises the service's errors, and logs one line at the end.

    Example (needs the LLM):
        >>> generations = Generations(service, Runs())
        >>> *working, last = generations.summary("f64af5a9ce14c4f7", "brief")  # doctest: +SKIP
        >>> last.result.style, working[-1].text == last.text  # doctest: +SKIP
        ('brief', True)
    """

    def __init__(self, service: NewsRAG, runs: Runs) -> None:
        self.service = service
        self.runs = runs

    def summary(
        self,
        article_id: str,
        style: str,
        session: str | None = None,
        asked_at: float | None = None,
        *,
        label: str = "summary",
    ) -> Iterator[Update]:
        """A summary of one article in ``style``; ``label`` names it in the log."""

        def start(run: Run) -> Iterable[Any]:
            return self.service.stream_summary(article_id, style=style)

        def details(summary: Any) -> tuple[Tokens, str]:
            tokens = (summary.prompt_tokens, summary.completion_tokens)
            return tokens, f"style {style}, {summary.method}, cached {summary.cached}"

        yield from self._run("summary", start, details, session, asked_at, label, "Summarizing")

    def digest(
        self,
        request: DigestRequest,
        session: str | None = None,
        asked_at: float | None = None,
        *,
        label: str = "digest",
    ) -> Iterator[Update]:
        """A digest of the articles ``request`` chooses, with a :class:`Step` per article
        summarized; ``label`` names it in the log."""

        def start(run: Run) -> Iterable[Any]:
            def progress(done: int, total: int, title: str) -> None:
                run.post(Step(done, total, title))  # raises Stopped once the run is stopped

            return self.service.stream_digest(request, progress=progress)

        def details(digest: Any) -> tuple[Tokens, str]:
            return (digest.prompt_tokens, None), f"{len(digest.articles)} articles"

        step = "Choosing the articles"
        yield from self._run("digest", start, details, session, asked_at, label, step)

    def _run(
        self,
        kind: str,
        start: Callable[[Run], Iterable[Any]],
        details: Callable[[Any], tuple[Tokens, str]],
        session: str | None,
        asked_at: float | None,
        label: str,
        step: str,
    ) -> Iterator[Update]:
        """Follow a new run of ``kind`` and log how it ended (``details(result)``: its tokens
        and a note for the log line)."""
        run = self.runs.start(kind, session, asked_at)
        if run is None:  # stopped while it waited in the queue
            return
        timing = Timing(label)
        outcome = "closed"  # unless set below: the caller closed this stream
        try:
            for update in follow(run, start, timing, step):
                if update.result is not None:
                    timing.tokens, timing.extra = details(update.result)
                    outcome = "done"
                elif update.stopped:
                    outcome = f"stopped ({run.reason})"
                yield update
        except Exception:
            outcome = "failed"
            raise
        finally:
            if outcome == "closed":
                outcome = f"stopped ({run.reason or 'closed'})"
            logger.info(timing.line(outcome))
