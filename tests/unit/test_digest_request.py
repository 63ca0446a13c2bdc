"""One digest request: its checks, and the same request from the app, the API, the CLI and
the library's older keyword form."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from rag.errors import InvalidRequestError, RagError
from rag.service import NewsRAG
from rag.settings import load_settings
from rag.summaries.request import MAX_DIGEST_ARTICLES, DigestRequest
from rag.summaries.results import Digest, DigestArticle
from rag.ui.api import Api
from rag.ui.handlers import Handlers
from rag.ui.handlers import feedback as ui_feedback
from rag.ui.runs import Runs

pytestmark = pytest.mark.unit

EXPECTED = DigestRequest(
    topic="war in Ukraine",
    outlet="Civic Wire",
    since=date(2025, 2, 1),
    until=date(2025, 2, 28),
    limit=3,
)


def _digest() -> Digest:
    return Digest(text="- Talks [1]", articles=[DigestArticle(n=1, article_id="a1", title="T")])


class RecordingService:
    """Stands in for NewsRAG (and for its summarizer): records every digest request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, DigestRequest, bool]] = []

    def stream_digest(self, request: DigestRequest, *, refresh: bool = False, progress=None):
        self.requests.append(("stream", request, refresh))
        if progress:
            progress(0, 1, "")
        yield "- Talks [1]"
        yield _digest()

    def digest(self, request: DigestRequest, *, refresh: bool = False) -> Digest:
        self.requests.append(("digest", request, refresh))
        return _digest()


@pytest.fixture
def service() -> RecordingService:
    return RecordingService()


@pytest.fixture
def warnings_shown(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(ui_feedback, "warn", shown.append)
    return shown


# --- the request's checks -----------------------------------------------------------------
def test_values_are_tidied_when_the_request_is_built() -> None:
    request = DigestRequest(
        topic="  war in Ukraine ",
        outlet="   ",
        since="2025-02-01",
        until=datetime(2025, 2, 28, 17, 30),
        article_ids=["a1", " ", "a2", "a1"],
        limit=3.0,  # type: ignore[arg-type]  # a slider's value
    )
    assert request.topic == "war in Ukraine" and request.outlet is None
    assert (request.since, request.until) == (date(2025, 2, 1), date(2025, 2, 28))
    assert request.article_ids == ("a1", "a2") and request.limit == 3
    assert DigestRequest(article_ids="a1").article_ids == ("a1",)  # type: ignore[arg-type]
    assert DigestRequest(limit="4").limit == 4  # type: ignore[arg-type]
    blank = DigestRequest(topic="", since="", article_ids=None)  # type: ignore[arg-type]
    assert blank == DigestRequest()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"since": "2025-03-01", "until": "2025-02-01"}, r"Since \(2025-03-01\) is after Until"),
        ({"until": "yesterday"}, r"Until: 'yesterday' is not a date; use YYYY-MM-DD"),
        ({"since": "2025-02-30"}, "Since: '2025-02-30' is not a date"),
        ({"since": "20250201"}, "Since: '20250201' is not a date"),
        ({"limit": 0}, r"between 1 and 20 \(got 0\)"),
        ({"limit": MAX_DIGEST_ARTICLES + 1}, r"between 1 and 20 \(got 21\)"),
        ({"limit": 2.5}, "whole number"),
        ({"limit": True}, "whole number"),
        ({"limit": "five"}, "whole number"),
        ({"article_ids": [f"a{i}" for i in range(21)]}, r"at most 20 articles \(got 21\)"),
    ],
)
def test_bad_values_are_refused_with_one_clear_message(fields: dict, message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message) as error:
        DigestRequest(**fields)
    assert isinstance(error.value, ValueError) and isinstance(error.value, RagError)
    assert "\n" not in str(error.value)  # one line: shown as is in the app, API and CLI


def test_a_request_is_frozen_and_describes_itself() -> None:
    request = DigestRequest(topic="Ukraine", outlet="Civic Wire", since="2025-02-01")
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.limit = 9  # type: ignore[misc]
    assert request.heading == "Digest: Ukraine" and DigestRequest().heading == "Digest"
    assert request.describe() == "topic=Ukraine, outlet=Civic Wire, since=2025-02-01"
    assert DigestRequest(article_ids=["a1", "a2"]).describe() == "articles a1, a2"
    filters = request.search_filters()
    assert filters.outlets == ["Civic Wire"] and filters.since == date(2025, 2, 1)
    assert DigestRequest().search_filters().is_empty


def test_the_older_keyword_form_builds_the_same_request() -> None:
    old = DigestRequest.of(
        article_ids=None,
        topic="war in Ukraine",
        source="Civic Wire",
        since=date(2025, 2, 1),
        until=date(2025, 2, 28),
        limit=3,
    )
    assert old == EXPECTED
    assert DigestRequest.of(EXPECTED) is EXPECTED
    with pytest.raises(TypeError, match="not both"):
        DigestRequest.of(EXPECTED, limit=3)
    with pytest.raises(TypeError, match="not both"):
        DigestRequest.of(outlet="A", source="B")
    with pytest.raises(TypeError, match="expected a DigestRequest"):
        DigestRequest.of({"topic": "x"})  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        DigestRequest.of(topics="x")  # a misspelt field is not silently ignored


# --- one request from every front end -------------------------------------------------------
def test_the_page_the_api_and_the_cli_send_the_same_request(
    service: RecordingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.cli import main

    handlers = Handlers(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]
    page = list(handlers.digest(" war in Ukraine ", "Civic Wire", "2025-02-01", "2025-02-28", 3))
    assert page[-1][1] is not None  # finished, with its export
    api = Api(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]
    assert list(api.digest("war in Ukraine", "Civic Wire", "2025-02-01", "2025-02-28", 3))
    monkeypatch.setattr("rag.cli.common.open_service", lambda **_: service)
    options = ["--topic", "war in Ukraine", "--outlet", "Civic Wire", "--since", "2025-02-01"]
    options += ["--until", "2025-02-28", "--limit", "3"]
    for extra in ([], ["--json"], ["--refresh"]):
        result = CliRunner().invoke(main, ["digest", *options, *extra])
        assert result.exit_code == 0, result.output
    assert service.requests == [
        ("stream", EXPECTED, False),  # the page
        ("stream", EXPECTED, False),  # the API
        ("stream", EXPECTED, False),  # the CLI, streamed
        ("digest", EXPECTED, False),  # the CLI, --json
        ("stream", EXPECTED, True),  # the CLI, --refresh
    ]


def test_the_cli_sends_chosen_ids_in_order_without_repeats(
    service: RecordingService, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.cli import main

    monkeypatch.setattr("rag.cli.common.open_service", lambda **_: service)
    result = CliRunner().invoke(main, ["digest", "--id", "b2", "--id", "a1", "--id", "b2"])
    assert result.exit_code == 0, result.output
    [(_, request, _)] = service.requests
    assert request == DigestRequest(article_ids=("b2", "a1"))


def test_a_bad_request_never_reaches_the_service(
    service: RecordingService, monkeypatch: pytest.MonkeyPatch, warnings_shown: list[str]
) -> None:
    import gradio as gr

    from rag.cli import main

    reversed_range = ("2025-03-01", "2025-02-01")
    handlers = Handlers(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]
    [(shown, export)] = list(handlers.digest("", "", *reversed_range, 5))
    assert shown.startswith("**Error:** Since") and export is None
    assert warnings_shown == ["Since (2025-03-01) is after Until (2025-02-01)"]
    api = Api(service, Runs(heartbeat=0.05))  # type: ignore[arg-type]
    with pytest.raises(gr.Error, match="is after Until"):
        list(api.digest("", "", *reversed_range))
    with pytest.raises(gr.Error, match="between 1 and 20"):
        list(api.digest(limit=0))
    monkeypatch.setattr("rag.cli.common.open_service", lambda **_: service)
    result = CliRunner().invoke(
        main, ["digest", "--since", reversed_range[0], "--until", reversed_range[1]]
    )
    assert result.exit_code == 1
    assert "Error: Since (2025-03-01) is after Until (2025-02-01)" in result.output
    assert service.requests == []


# --- the library facade -----------------------------------------------------------------------
def test_the_facade_takes_a_request_or_the_older_keywords(tmp_path: Path) -> None:
    rag = NewsRAG.from_settings(load_settings(data_dir=tmp_path / "data"))
    summarizer = RecordingService()
    rag.summarizer = summarizer  # type: ignore[misc, assignment]
    rag.digest(EXPECTED)
    rag.digest(
        topic="war in Ukraine",
        source="Civic Wire",
        since=date(2025, 2, 1),
        until=date(2025, 2, 28),
        limit=3,
        refresh=True,
    )
    seen: list[tuple[int, int, str]] = []
    items = list(rag.stream_digest(EXPECTED, progress=lambda *step: seen.append(step)))
    assert isinstance(items[-1], Digest) and seen == [(0, 1, "")]
    old_form = {"topic": "war in Ukraine", "source": "Civic Wire", "limit": 3}
    list(rag.stream_digest(since="2025-02-01", until="2025-02-28", **old_form))
    assert summarizer.requests == [
        ("digest", EXPECTED, False),
        ("digest", EXPECTED, True),
        ("stream", EXPECTED, False),
        ("stream", EXPECTED, False),
    ]
    with pytest.raises(InvalidRequestError, match="between 1 and 20"):
        rag.digest(limit=50)
