"""What wskdeploy accepts on purpose is accepted here too, each time with a warning.

The corpus is ``lenient_manifests/name.yaml``; its sibling ``name.warnings`` holds the
warnings expected, one a line without the file name. Each case runs in the same folder
as the bad-manifest corpus (``hello.py``, ``actions/hello/__main__.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_manifest_errors import project_folder

from deploy.manifest.loader import load_manifest

CORPUS = Path(__file__).parent / "lenient_manifests"
CASES = sorted(CORPUS.glob("*.yaml"))


def loaded(case: Path, root: Path):
    manifest = project_folder(root) / "manifest.yaml"
    manifest.write_bytes(case.read_bytes())
    return manifest, load_manifest(manifest, {})


def test_every_case_lists_its_warnings():
    assert len(CASES) >= 8
    assert all(case.with_suffix(".warnings").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_lenient_manifest_loads_with_exactly_these_warnings(case, tmp_path):
    manifest, loaded_manifest = loaded(case, tmp_path)
    expected = [
        f"{manifest}{line}" for line in case.with_suffix(".warnings").read_text().splitlines()
    ]
    assert list(loaded_manifest.warnings) == expected


def test_a_mistyped_input_is_sent_as_written(tmp_path):
    _, manifest = loaded(CORPUS / "input-value-not-integer.yaml", tmp_path)
    assert manifest.actions[0].inputs == {"n": "three"}


def test_the_same_trigger_in_two_packages_is_one_trigger(tmp_path):
    _, manifest = loaded(CORPUS / "same-trigger-in-two-packages.yaml", tmp_path)
    assert [t.name for t in manifest.triggers] == ["t"]


def test_a_default_package_setting_changes_nothing(tmp_path):
    _, manifest = loaded(CORPUS / "default-package-inputs.yaml", tmp_path)
    assert manifest.packages == ()


def test_a_dependency_is_a_binding_beside_the_packages(tmp_path):
    from deploy.plan import desired_entities

    _, manifest = loaded(CORPUS / "dependency-binding.yaml", tmp_path)
    assert [(p.name, p.binding) for p in manifest.packages] == [
        ("p", None),
        ("alarms", "/whisk.system/alarms"),
    ]
    (binding,) = [e for e in desired_entities(manifest, {}, "guest") if e.name == "alarms"]
    assert binding.body["binding"] == {"namespace": "whisk.system", "name": "alarms"}
