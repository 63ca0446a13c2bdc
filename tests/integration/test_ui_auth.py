"""With ``RAG_UI_AUTH`` set, the launched app serves nothing but its login page to strangers.

One real app process (``python app.py``) with a login, no sample ingest and an LLM endpoint
that is never called (only the library endpoints are used, so no model generates text).
Every page and API route is tried without credentials (refused), with wrong ones
(refused) and with the right ones through ``gradio_client`` (works).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

USER, PASSWORD = "ann", "pw-AUTHTEST-4c2b9e"
SECRET_TITLE = "Quaymouth lighthouse keeper retires after forty years"


@pytest.fixture(scope="module")
def app_url(start_app, tmp_path_factory: pytest.TempPathFactory):
    env = {
        "RAG_UI_AUTH": f"{USER}:{PASSWORD}",
        "RAG_INGEST_SAMPLES": "false",
        "RAG_LLM_BASE_URL": "http://127.0.0.1:9/v1",  # never called by these tests
    }
    with start_app(tmp_path_factory.mktemp("ui-auth") / "data", timeout=300, **env) as url:
        yield url


@pytest.fixture(scope="module")
def client(app_url: str):
    from gradio_client import Client

    client = Client(app_url, auth=(USER, PASSWORD), verbose=False, download_files=False)
    report = client.predict(
        "The keeper of the Quaymouth lighthouse retired on Friday after forty years.",
        SECRET_TITLE,
        "Harbor Daily",
        "",
        "2025-03-07",
        api_name="/ingest_text",
    )
    assert report["added"] == 1
    return client


def request(url: str, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read(200_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(10_000).decode("utf-8", "replace")


PROTECTED_GET = [
    "config",
    "gradio_api/info",
    "gradio_api/info?all_endpoints=true",
    "gradio_api/openapi.json",
    "gradio_api/queue/status",
    "gradio_api/file=/etc/passwd",
    "gradio_api/call/list_articles/abc",
]
API_NAMES = ["ask", "summarize", "digest", "ingest", "ingest_text", "list_articles", "delete"]
PROTECTED_POST = [
    *(f"gradio_api/call/{name}" for name in API_NAMES),
    "gradio_api/queue/join",
    "gradio_api/upload",
    "gradio_api/run/predict",
]


@pytest.mark.parametrize("path", PROTECTED_GET)
def test_reads_without_login_are_refused(app_url: str, client, path: str) -> None:
    status, body = request(app_url + path)
    assert status in (401, 403), (status, body[:300])
    assert SECRET_TITLE not in body


@pytest.mark.parametrize("path", PROTECTED_POST)
def test_calls_without_login_are_refused(app_url: str, client, path: str) -> None:
    payload = {"data": [[], ""], "fn_index": 0, "session_hash": "x1", "event_data": None}
    status, body = request(app_url + path, "POST", json.dumps(payload).encode())
    assert status in (401, 403, 405), (status, body[:300])
    assert SECRET_TITLE not in body and "event_id" not in body


def test_the_page_without_login_is_only_the_login_form(app_url: str, client) -> None:
    status, body = request(app_url)
    assert status == 200
    assert '"auth_required":true' in body and '"components":[]' in body
    assert SECRET_TITLE not in body and "Harbor Daily" not in body


def test_wrong_password_is_refused(app_url: str) -> None:
    from gradio_client import Client

    data = f"username={USER}&password=wrong".encode()
    req = urllib.request.Request(app_url + "login", data=data, method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=30)
    assert info.value.code in (400, 401)
    with pytest.raises(Exception, match=r"(?i)credentials|auth|login|401"):
        Client(app_url, auth=(USER, "wrong"), verbose=False)


def test_gradio_client_without_credentials_is_refused(app_url: str) -> None:
    from gradio_client import Client

    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; nothing may be returned
        Client(app_url, verbose=False).predict(api_name="/list_articles")


def test_with_the_login_the_library_api_works(client) -> None:
    titles = [a["title"] for a in client.predict(api_name="/list_articles")]
    assert titles == [SECRET_TITLE]
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {f"/{name}" for name in API_NAMES} <= names


def test_the_password_is_not_in_the_app_log(app_url: str, client, tmp_path_factory) -> None:
    logs = list(Path(tmp_path_factory.getbasetemp()).glob("ui-auth*/data/app.log"))
    assert logs, "the app writes its log next to its data"
    text = logs[0].read_text(encoding="utf-8", errors="replace")
    assert "auth on" in text and PASSWORD not in text
