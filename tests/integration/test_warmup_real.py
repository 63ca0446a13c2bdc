"""The app warms the embedded model in the background: its first answer pays no load time.

Runs ``python app.py`` with the real models (samples ingested on first run), waits for the
warm-up to finish while the page already serves, then asks the first question.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SERVED = "served at http://127.0.0.1:"
WARM = "Warm-up done"
PRIMED = "Answer prompt prefix primed"


def _wait_for(log: Path, text: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = log.read_text(encoding="utf-8", errors="replace")
        if text in content:
            return content
        time.sleep(0.5)
    pytest.fail(f"{text!r} never appeared in the app log:\n{log.read_text()[-3000:]}")


def test_app_first_answer_finds_the_model_loaded_and_its_prompt_prefix_cached(
    start_app, tmp_path: Path
) -> None:
    from gradio_client import Client

    data_dir = tmp_path / "data"
    with start_app(data_dir) as url:
        log = data_dir / "app.log"
        client = Client(url, verbose=False, download_files=False)
        assert len(client.predict(api_name="/list_articles")) >= 5  # usable while warming

        before = _wait_for(log, WARM, timeout=300)
        assert before.count(SERVED) == 1
        assert PRIMED in before

        started = time.perf_counter()
        job = client.submit("What did Hegseth rule out?", api_name="/ask")
        answer = job.result(timeout=600)
        elapsed = time.perf_counter() - started
        after = log.read_text(encoding="utf-8", errors="replace")[len(before) :]

    assert answer["done"] is True and "NATO" in answer["answer"]
    assert SERVED not in after, "the model server started again for the first question"
    assert "Assembling" not in after
    print(f"first answer after warm-up: {elapsed:.1f} s")
