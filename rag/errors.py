"""User-facing errors: one message saying what is wrong and one hint saying what to do.

Every error the CLI, the app or a library caller should show to a person derives
from :class:`RagError`. Library code raises these instead of letting a raw
traceback escape, so that each front end can print ``str(error)`` and stop.

Example:
    >>> err = ModelError("model file missing", hint="run: news-rag models --prepare")
    >>> str(err)
    'model file missing\\nHint: run: news-rag models --prepare'
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error meant to be read by a person.

    Example:
        >>> raise RagError("store is read-only", hint="check RAG_DATA_DIR permissions")
        Traceback (most recent call last):
        rag.errors.RagError: store is read-only
        Hint: check RAG_DATA_DIR permissions
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nHint: {self.hint}"
        return self.message


class ConfigError(RagError):
    """A setting is invalid or missing (names the setting)."""


class ModelError(RagError):
    """A model file or model package is missing, corrupt or cannot be started."""


class LLMUnavailableError(RagError):
    """The LLM endpoint is down, too slow, or answered with an error."""


class StoreError(RagError):
    """The article store (Chroma) cannot be opened, read or written."""


class IngestError(RagError):
    """An input could not be loaded as an article (empty, binary, too big, unreachable...)."""


class NotFoundError(RagError):
    """An article id (or other named object) does not exist."""


class InvalidRequestError(RagError, ValueError):
    """A request's values cannot be used (a malformed date, a limit out of range...).

    Also a ``ValueError``, as any caller passing a bad argument expects.

    Example:
        >>> isinstance(InvalidRequestError("limit must be 1 to 20"), ValueError)
        True
    """
