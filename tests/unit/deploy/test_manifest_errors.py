"""Every bad manifest is refused with exact messages: file, line, YAML path, expected, found.

The corpus is ``bad_manifests/NN-name.yaml``; its sibling ``NN-name.expected``
holds one problem per line without the file name (``{base}`` stands for the
manifest's folder). Each case runs in a folder that holds ``hello.py``,
``notes.txt`` and ``actions/hello/__main__.py``, so only the intended problem fires.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import ManifestError
from deploy.manifest.loader import load_manifest

CORPUS = Path(__file__).parent / "bad_manifests"
CASES = sorted(CORPUS.glob("*.yaml"))


def project_folder(root: Path) -> Path:
    (root / "actions" / "hello").mkdir(parents=True)
    (root / "actions" / "hello" / "__main__.py").write_text("def main(args):\n    return args\n")
    (root / "hello.py").write_text("def main(args):\n    return args\n")
    (root / "notes.txt").write_text("not code\n")
    return root


def case_named(name: str) -> Path:
    return next(CORPUS.glob(f"*-{name}.yaml"))


def problems_for(case: Path, root: Path) -> tuple[Path, list[str]]:
    manifest = project_folder(root) / "manifest.yaml"
    manifest.write_bytes(case.read_bytes())
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest, {})
    return manifest, caught.value.problems


def test_the_corpus_has_at_least_forty_cases():
    assert len(CASES) >= 40
    assert all(case.with_suffix(".expected").is_file() for case in CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.stem)
def test_bad_manifest_is_refused_with_exact_messages(case, tmp_path):
    manifest, problems = problems_for(case, tmp_path)
    expected = [
        f"{manifest}{line.replace('{base}', str(tmp_path))}"
        for line in case.with_suffix(".expected").read_text().splitlines()
    ]
    assert problems == expected


def test_all_problems_are_reported_at_once_in_file_order(tmp_path):
    manifest, problems = problems_for(case_named("three-problems"), tmp_path)
    assert [p.split(":")[1] for p in problems] == ["7", "8", "10"]
    message = str(ManifestError(problems))
    assert message.splitlines()[0] == "the manifest has 3 problems:"
    assert len(message.splitlines()) == 4


def test_unset_jinja_variables_are_all_named_with_their_lines(tmp_path):
    _, problems = problems_for(case_named("unset-jinja-vars-all-reported"), tmp_path)
    assert [p.split(": ")[1] for p in problems] == ["env.NAME", "env.PKG"]


def test_a_missing_file_is_a_manifest_error(tmp_path):
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "manifest.yaml", {})
    assert caught.value.problems == [
        f"{tmp_path / 'manifest.yaml'}:0: (file): expected a readable manifest, found No such file or directory"
    ]


def test_a_manifest_that_is_not_utf8_is_a_manifest_error(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_bytes(b"project:\n  name: \xff\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest, {})
    assert caught.value.problems == [
        f"{manifest}:0: (file): expected UTF-8 text, found byte 0xff at offset 17"
    ]


def test_a_project_name_that_disagrees_with_the_fallback_is_an_error(tmp_path):
    manifest = project_folder(tmp_path) / "manifest.yaml"
    manifest.write_text("project:\n  name: demo\n  packages: {}\n")
    with pytest.raises(ManifestError) as caught:
        load_manifest(manifest, {}, project_name="other")
    assert caught.value.problems == [
        f"{manifest}:2: project.name: expected the project name given on the command line ('other'), found 'demo'"
    ]


def test_a_manifest_without_a_project_name_is_named_after_its_folder_with_a_warning(tmp_path):
    # wskdeploy's docs are full of bare `packages:` manifests; they must deploy unchanged.
    folder = tmp_path / "hello-app"
    folder.mkdir()
    manifest = folder / "manifest.yaml"
    manifest.write_text("packages:\n  default: {}\n")
    loaded = load_manifest(manifest, {})
    assert loaded.project == "hello-app"
    assert loaded.warnings == (
        f"{manifest}:1: project.name: not set; the project is named 'hello-app' after the "
        "manifest's folder (set project.name or --projectname to keep it stable when the folder moves)",
    )


def test_the_command_line_project_name_wins_over_the_folder(tmp_path):
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text("packages:\n  default: {}\n")
    loaded = load_manifest(manifest, {}, project_name="chosen")
    assert (loaded.project, loaded.warnings) == ("chosen", ())
