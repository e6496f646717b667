"""Runtime names wskdeploy maps are mapped as it maps them, from the server's GET /."""

from __future__ import annotations

from pathlib import Path

import pytest

from deploy.errors import PreflightError
from deploy.models import ActionSpec, Manifest
from deploy.runtimes import resolve_kinds

INFO = {
    "runtimes": {
        "nodejs": [
            {"kind": "nodejs:18", "default": False},
            {"kind": "nodejs:20", "default": True},
        ],
        "python": [
            {"kind": "python:3.10", "default": True},
            {"kind": "python:3.11", "default": False},
            {"kind": "python:2", "default": False, "deprecated": True},
        ],
        "java": [{"kind": "java:8", "default": True}],
    }
}


def kind_of(tmp_path: Path, file: str | None, runtime: str, *, inferred: bool = False):
    function = None
    code = None
    if file is None:
        code = "function main() {}"
    else:
        function = tmp_path / file
        if file.endswith("/"):
            function.mkdir(exist_ok=True)
        else:
            function.write_text("x")
    spec = ActionSpec(None, "a", runtime, function=function, code=code, inferred_runtime=inferred)
    manifest = Manifest("p", tmp_path / "manifest.yaml", "0", actions=(spec,))
    resolved, warnings = resolve_kinds(manifest, INFO, "http://host")
    return resolved.actions[0].runtime, warnings


@pytest.mark.parametrize(
    ("file", "runtime", "kind"),
    [
        ("hello.js", "nodejs", "nodejs:20"),
        ("hello.js", "nodejs@10", "nodejs:20"),
        ("hello.py", "python@3", "python:3.10"),
        ("hello.py", "python", "python:3.10"),
        ("hello.jar", "java", "java:8"),
        ("hello.py", "python:2", "python:3.10"),  # deprecated: not offered
    ],
)
def test_a_name_the_server_does_not_offer_takes_the_extensions_default(
    tmp_path, file, runtime, kind
):
    found, warnings = kind_of(tmp_path, file, runtime)
    assert found == kind
    assert warnings == [
        f"action a: runtime {runtime!r} is not offered by http://host; using {kind},"
        f" its default for .{file.rsplit('.', 1)[1]} files (as wskdeploy does)"
    ]


def test_offered_kinds_and_family_defaults_stay_as_written(tmp_path):
    assert kind_of(tmp_path, "hello.js", "nodejs:18") == ("nodejs:18", [])
    assert kind_of(tmp_path, "hello.js", "nodejs:default") == ("nodejs:default", [])


def test_no_runtime_takes_the_servers_default_for_the_extension(tmp_path):
    assert kind_of(tmp_path, "hello.jar", "java:default", inferred=True) == ("java:8", [])
    assert kind_of(tmp_path, "hello.js", "nodejs:default", inferred=True) == ("nodejs:20", [])


def test_a_runtime_of_another_family_is_replaced_with_a_warning(tmp_path):
    found, warnings = kind_of(tmp_path, "hello.js", "python:3.11")
    assert found == "nodejs:20"
    assert warnings == [
        "action a: runtime 'python:3.11' does not run .js files; using nodejs:20,"
        " the default for .js (as wskdeploy does)"
    ]


def test_inline_code_takes_a_family_name_as_its_default(tmp_path):
    assert kind_of(tmp_path, None, "nodejs")[0] == "nodejs:20"


def test_inline_code_with_a_runtime_not_offered_is_refused(tmp_path):
    with pytest.raises(PreflightError) as caught:
        kind_of(tmp_path, None, "nodejs@10")
    assert "action a: runtime 'nodejs@10' is not offered by http://host" in str(caught.value)


def test_a_zip_needs_an_offered_runtime(tmp_path):
    assert kind_of(tmp_path, "folder/", "python:3.11")[0] == "python:3.11"
    with pytest.raises(PreflightError) as caught:
        kind_of(tmp_path, "folder/", "python")
    assert "a folder is sent as a zip, whose kind must be one of them" in str(caught.value)


def test_a_jar_where_no_java_runs_says_java_not_python(tmp_path):
    info = {"runtimes": {"python": INFO["runtimes"]["python"]}}
    spec = ActionSpec(None, "a", "java:default", function=tmp_path / "a.jar", inferred_runtime=True)
    (tmp_path / "a.jar").write_bytes(b"PK\x03\x04")
    manifest = Manifest("p", tmp_path / "manifest.yaml", "0", actions=(spec,))
    with pytest.raises(PreflightError) as caught:
        resolve_kinds(manifest, info, "http://host")
    assert caught.value.problems == [
        "action a: a .jar file is Java code, but http://host offers no java runtime"
        " (it offers: python:3.10, python:3.11, python:default); deploy it where java runs"
    ]


def test_a_server_listing_no_runtimes_leaves_kinds_alone(tmp_path):
    spec = ActionSpec(None, "a", "nodejs@10", code="x")
    manifest = Manifest("p", tmp_path / "manifest.yaml", "0", actions=(spec,))
    assert resolve_kinds(manifest, {}, "h") == (manifest, [])
