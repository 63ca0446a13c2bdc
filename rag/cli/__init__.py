"""The ``news-rag`` command line: ingest, ask, chat, summarize, digest, eval, models, serve.

Subcommands live in their own modules and are imported only when invoked, so
``news-rag --help`` stays fast and commands that need no model load none.

Example (shell):
    $ news-rag ingest samples/
    $ news-rag ask "What did Hegseth rule out?"
"""

from __future__ import annotations

import importlib

import click

from rag import __version__

# command name -> "module:attribute"; modules are imported lazily.
COMMANDS: dict[str, str] = {
    "models": "rag.cli.models:models",
    "ingest": "rag.cli.library:ingest",
    "list": "rag.cli.library:list_articles",
    "show": "rag.cli.library:show",
    "delete": "rag.cli.library:delete",
    "ask": "rag.cli.ask:ask",
    "chat": "rag.cli.ask:chat",
    "summarize": "rag.cli.summaries:summarize",
    "digest": "rag.cli.summaries:digest",
    "eval": "rag.cli.evaluate:eval_command",
    "serve": "rag.cli.serve:serve",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(
    cls=LazyGroup,
    epilog="""\b
Examples:
  news-rag ingest samples/ https://example.org/feed.xml
  news-rag ask "What did Hegseth rule out?"
  news-rag summarize ARTICLE_ID --style bullets
  news-rag digest --topic "war in Ukraine" --since 2025-02-01
  news-rag serve                    # the web app on http://127.0.0.1:7860
  news-rag eval evals/smoke.yaml

Settings come from RAG_* environment variables or a .env file (see README).""",
)
@click.version_option(__version__, prog_name="news-rag")
@click.option("-v", "--verbose", is_flag=True, help="Show debug logs.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """Ask questions about news articles and get grounded, cited answers and summaries."""
    from rag.cli.common import configure_logging

    configure_logging(verbose)
    ctx.ensure_object(dict)
