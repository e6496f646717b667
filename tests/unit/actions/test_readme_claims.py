"""What the README says the bundle does is what it does: the worker's result, the examples' cost.

A reader copies these lines first; a wrong result shape or an example that quietly starts
the worker's default 100 s job is the first thing they meet.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_every_result_the_readme_shows_for_the_worker_is_the_workers(worker) -> None:
    shown = [m for m in re.findall(r"`(\{[^`]*\})`", README) if '"payload"' in m]
    assert shown, "the README no longer shows the worker's result"
    actual = worker.main({"duration_ms": 0})
    for text in shown:
        assert json.loads(text.replace("…", "")) == actual, text


def test_each_example_that_starts_the_worker_says_how_long_it_runs() -> None:
    blocks = re.findall(r"```(?:sh)?\n(.*?)```", README, flags=re.S)
    calls = [
        line
        for block in blocks
        for line in block.splitlines()
        if "test.json" in line or "fire my-worker-trigger" in line
    ]
    assert calls, "the README no longer shows how to start the worker"
    for line in calls:
        assert "duration_ms" in line, f"starts the 100 s default job unannounced: {line}"
