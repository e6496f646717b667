"""The manifest's fast paths give the slow paths' answers: libyaml, and no Jinja2 without tags."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from deploy.manifest import yamlsource

ROOT = Path(__file__).resolve().parents[3]


def _shape(data: object) -> object:
    if isinstance(data, yamlsource.LineDict):
        return (data.line, dict(data.lines), {k: _shape(v) for k, v in data.items()})
    if isinstance(data, yamlsource.LineList):
        return (data.line, list(data.lines), [_shape(v) for v in data])
    return data


@pytest.mark.skipif(not yamlsource._LIBYAML, reason="PyYAML built without libyaml")
def test_libyaml_gives_the_same_values_and_lines_as_pure_python() -> None:
    text = (
        ROOT / "manifest.yaml"
    ).read_text() + "extra: &a {x: [1, 2]}\nmore: *a\ntwice: 1\ntwice: 2\n"
    fast = yamlsource._load(yamlsource._CLoader(text, "m.yaml"))
    slow = yamlsource._load(yamlsource._Loader(text, "m.yaml"))
    assert _shape(fast[0]) == _shape(slow[0]) and fast[1] == slow[1]
    assert "found 'twice' again" in fast[1][0]


def test_a_manifest_without_template_tags_does_not_import_jinja2() -> None:
    probe = (
        "import os, sys\nfrom pathlib import Path\nfrom deploy.manifest.loader import load_manifest\n"
        f"load_manifest(Path({str(ROOT / 'manifest.yaml')!r}), os.environ)\n"
        "print('jinja2' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
