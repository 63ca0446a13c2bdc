"""Shared CLI plumbing: logging, settings, the service, and turning errors into messages.

Example:
    >>> import click
    >>> @click.command()
    ... @handle_errors
    ... def hello() -> None:
    ...     click.echo("hi")
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.service import NewsRAG
    from rag.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


def configure_logging(verbose: bool = False) -> None:
    """Log to stderr; INFO for our package (or DEBUG with ``-v``), WARNING for libraries."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    logging.getLogger("rag").setLevel(logging.DEBUG if verbose else logging.INFO)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn :class:`RagError` into a clean ``Error: ...`` message and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RagError as exc:
            from rag.redaction import redact_known

            raise click.ClickException(redact_known(str(exc))) from None
        except KeyboardInterrupt:
            raise click.Abort() from None

    return wrapper


def old_option(
    old: str, new: str, dest: str | None = None, *, multiple: bool = False
) -> Callable[[F], F]:
    """Keep ``--old`` working as a hidden, deprecated name of the option ``--new`` (whose
    value the command takes as ``dest``, by default ``new``); put it above the command's own
    options.

    Example:
        >>> @click.command()
        ... @old_option("source", "outlet")
        ... @click.option("--outlet")
        ... def show(outlet: str | None) -> None:
        ...     click.echo(outlet)
        >>> from click.testing import CliRunner
        >>> CliRunner().invoke(show, ["--source", "AP"]).stdout
        'AP\\n'
    """
    old_dest, new_dest = f"old_{old}", dest or new

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def merged(*args: Any, **kwargs: Any) -> Any:
            value, given = kwargs.pop(old_dest), kwargs[new_dest]
            if value and given and not multiple:  # as rag.renamed.renamed_argument: not both
                raise click.UsageError(f"give --{new} or --{old} (its old name), not both")
            if value:
                kwargs[new_dest] = (*given, *value) if multiple else value
            return command(*args, **kwargs)

        option = click.option(
            f"--{old}", old_dest, multiple=multiple, hidden=True, deprecated=f"use --{new}"
        )
        return option(merged)  # type: ignore[return-value]

    return decorate


def load_cli_settings(**overrides: object) -> Settings:
    """Settings from the environment plus non-None CLI overrides."""
    from rag.redaction import install_log_redaction
    from rag.settings import load_settings

    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    install_log_redaction(settings)
    return settings


def open_service(**overrides: object) -> NewsRAG:
    """Build the service from settings (models start lazily, on first use)."""
    from rag.service import NewsRAG

    return NewsRAG.from_settings(load_cli_settings(**overrides))
