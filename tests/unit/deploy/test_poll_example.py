"""The two curl lines deploy and urls print: start the bundle's job, then poll its status URL."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from deploy.manifest.loader import load_manifest
from deploy.ui import example_lines, poll_example, web_actions

REPO = Path(__file__).resolve().parents[3]
HOST = "http://127.0.0.1:3233"


@pytest.mark.parametrize(
    ("manifest", "package"),
    [("manifest.yaml", "default"), ("manifest.nodejs.yaml", "async-nodejs")],
)
def test_the_bundles_print_a_two_second_job_and_its_poll(manifest, package):
    loaded = load_manifest(REPO / manifest, {})
    start, poll = poll_example(loaded, web_actions(loaded, HOST, "guest"))
    url = f"{HOST}/api/v1/web/guest/{package}/test?duration_ms=2000"
    assert start == (
        f"status=$(curl -sS '{url}' | "
        """sed -n 's/.*"statusUrl": *"\\([^"]*\\)".*/\\1/p')"""
    )
    assert poll == 'curl -sS -i "$status"'
    assert shlex.split(start)  # quotes balance: it runs as printed


def test_the_text_heads_the_lines_and_indents_them():
    lines = example_lines(["a", "b"])
    assert lines == [
        "start a job, then poll it (202 while it runs, then 200 with its result):",
        "  a",
        "  b",
    ]
    assert example_lines([]) == []


def test_a_manifest_without_a_status_action_prints_no_example(tmp_path):
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "__main__.py").write_text("def main(a):\n    return {}\n")
    (tmp_path / "manifest.yaml").write_text(
        "project:\n  name: p\n  packages:\n    default:\n      actions:\n        hi:\n"
        "          function: web\n          runtime: python:3.11\n          web: true\n"
        "          inputs:\n            status_action: missing\n"
    )
    loaded = load_manifest(tmp_path / "manifest.yaml", {})
    assert poll_example(loaded, web_actions(loaded, HOST, "guest")) == []
