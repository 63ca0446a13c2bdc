"""Keep secrets out of what people and files see: logs, error messages, descriptions, reports.

Secrets are the API keys (``RAG_LLM_API_KEY``, ``RAG_EMBEDDING_API_KEY``), the app login
(``RAG_UI_AUTH``) and credentials written into endpoint URLs (``https://user:pw@host``,
``?api-key=...``). :func:`register_secrets` records those of a :class:`Settings`;
:func:`redact_known` replaces every recorded secret in a text, and
:func:`install_log_redaction` does it for every log record. :func:`public_url` shows an
endpoint without its credentials.

Example:
    >>> from rag.settings import load_settings
    >>> settings = load_settings(llm_base_url="https://llm.example/v1", llm_api_key="sk-abc123")
    >>> register_secrets(settings)
    >>> redact_known("401: bad key sk-abc123")
    '401: bad key ***'
    >>> public_url("https://ann:pw@llm.example/v1?api-key=xyz")
    'https://llm.example/v1?api-key=***'
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

if TYPE_CHECKING:
    from rag.settings import Settings

__all__ = ["install_log_redaction", "public_url", "redact_known", "register_secrets"]

MASK = "***"
MIN_SECRET_CHARS = 4  # shorter values would mask ordinary words
_SENSITIVE_PARAMS = ("key", "token", "secret", "password", "passwd", "pwd", "auth", "sig")

_lock = threading.Lock()
_secrets: set[str] = set()


def _url_secrets(url: str | None) -> list[str]:
    if not url:
        return []
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password or ""]
    found += [
        value
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if any(word in name.lower() for word in _SENSITIVE_PARAMS)
    ]
    return found


def secret_values(settings: Settings) -> list[str]:
    """Every secret string in ``settings`` (keys, the app password, credentials in URLs).

    Example:
        >>> from rag.settings import load_settings
        >>> secret_values(load_settings(ui_auth="ann:s3cret-pw"))
        ['ann:s3cret-pw', 's3cret-pw']
    """
    values: list[str] = []
    for field in (settings.llm_api_key, settings.embedding_api_key):
        if field is not None:
            values.append(field.get_secret_value())
    if settings.ui_auth is not None:
        login = settings.ui_auth.get_secret_value()
        values += [login, login.partition(":")[2]]
    for url in (settings.llm_base_url, settings.embedding_base_url, settings.chroma_url):
        values += _url_secrets(url)
    return [v for v in dict.fromkeys(values) if len(v) >= MIN_SECRET_CHARS]


def register_secrets(settings: Settings) -> None:
    """Remember the secrets of ``settings`` for :func:`redact_known` and the log filter."""
    values = secret_values(settings)
    with _lock:
        _secrets.update(values)


def redact(text: str, secrets: list[str | None]) -> str:
    """``text`` with every non-trivial secret replaced by ``***`` (longest first).

    Example:
        >>> redact("bad key sk-123456", ["sk-123456"])
        'bad key ***'
    """
    usable = (s for s in secrets if s and len(s) >= MIN_SECRET_CHARS)
    for secret in sorted(usable, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def redact_known(text: str) -> str:
    """``text`` with every registered secret replaced by ``***`` (longest first).

    Example:
        >>> redact_known("nothing secret here")
        'nothing secret here'
    """
    with _lock:
        known = list(_secrets)
    return redact(text, known)


def public_url(url: str | None) -> str | None:
    """``url`` without a user name or password, and with sensitive query values masked.

    Example:
        >>> public_url("http://127.0.0.1:8000/v1")
        'http://127.0.0.1:8000/v1'
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(invalid URL)"
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    query = "&".join(
        f"{name}={MASK if any(w in name.lower() for w in _SENSITIVE_PARAMS) else value}"
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class SecretFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it sees."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_known(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if redact_known(text) != text:
                record.msg = f"{record.msg}\n{redact_known(text)}"
                record.exc_info, record.exc_text = None, None
        return True


_FILTER = SecretFilter()


def install_log_redaction(settings: Settings, logger: logging.Logger | None = None) -> None:
    """Register the secrets of ``settings`` and mask them in everything the root logger's
    handlers (or ``logger``'s) write, whichever library logs them.

    Example:
        >>> import logging, sys
        >>> from rag.settings import load_settings
        >>> log = logging.getLogger("redaction-example")
        >>> log.addHandler(logging.StreamHandler(sys.stdout)); log.propagate = False
        >>> install_log_redaction(load_settings(llm_api_key="sk-def456"), log)
        >>> log.warning("calling the model with sk-def456")
        calling the model with ***
    """
    register_secrets(settings)
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)


def redact_mapping(data: Any) -> Any:
    """A JSON-like value with secrets masked in every string (for reports and API output).

    Example:
        >>> redact_mapping({"a": ["x"]})
        {'a': ['x']}
    """
    if isinstance(data, str):
        return redact_known(data)
    if isinstance(data, dict):
        return {k: redact_mapping(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_mapping(v) for v in data]
    return data
