"""An eval run whose progress updates are kept, for tests that check every stage reported.

Import it into a test module: ``from eval_runs import run_recording_stages``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rag.evaluation.outcome import EvalOutcome
from rag.evaluation.runner import run_suite
from rag.evaluation.suite import Suite

Stage = tuple[str, int, int]  # (stage, done, total), as run_suite reports progress


def run_recording_stages(
    suite: Suite, out_dir: Path, **options: Any
) -> tuple[EvalOutcome, list[Stage]]:
    """``run_suite(suite, out_dir=out_dir, **options)`` and every progress update it made."""
    stages: list[Stage] = []
    outcome = run_suite(
        suite, out_dir=out_dir, progress=lambda *update: stages.append(update), **options
    )
    return outcome, stages
