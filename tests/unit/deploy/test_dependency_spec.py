"""Reading dependency specs (requirements.txt, pyproject.toml, package.json + lockfile),
targets from kinds and cache keys: pure, no pip, no npm."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploy.dependencies.cache import cache_root, spec_key, zip_key
from deploy.dependencies.spec import find_spec, parse_requirements
from deploy.dependencies.target import node_major, python_target
from deploy.errors import BundleError, DependencyError
from deploy.models import ActionSpec


def action(folder: Path, kind: str = "python:3.11") -> ActionSpec:
    return ActionSpec(None, "a", kind, function=folder)


def python_folder(tmp_path: Path, requirements: str) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "__main__.py").write_text("def main(a):\n    return a\n")
    (tmp_path / "requirements.txt").write_text(requirements)
    return tmp_path


def test_requirement_lines_are_read_as_pip_reads_them() -> None:
    text = (
        "# a comment\n"
        "\n"
        "requests>=2.31,<3  # trailing comment\n"
        "fastsum==1.0 \\\n"
        "    --hash=sha256:abc\n"
        "backports.zoneinfo; python_version < '3.9'\n"
        "--index-url https://example.invalid/simple\n"
        "purelib[extra]~=1.0\n"
    )
    assert parse_requirements(text, "r.txt") == [
        "requests>=2.31,<3",
        "fastsum==1.0     --hash=sha256:abc",
        "backports.zoneinfo; python_version < '3.9'",
        "--index-url https://example.invalid/simple",
        "purelib[extra]~=1.0",
    ]


def test_a_requirement_pip_cannot_read_names_file_line_and_fix() -> None:
    with pytest.raises(DependencyError) as err:
        parse_requirements("requests\nnot a requirement!!\n", "actions/x/requirements.txt")
    message = str(err.value)
    assert message.startswith("actions/x/requirements.txt:2: expected a requirement")
    assert "'not a requirement!!'" in message and "hint:" in message
    assert err.value.exit_code == 2 and isinstance(err.value, BundleError)


@pytest.mark.parametrize("line", ["-r other.txt", "-e .", "--editable ./lib", "-c constraints.txt"])
def test_options_that_pull_in_other_files_are_refused(line: str) -> None:
    with pytest.raises(DependencyError, match=r"r\.txt:1: .*found the option"):
        parse_requirements(f"{line}\n", "r.txt")


def test_a_python_folder_with_requirements_is_a_spec(tmp_path: Path) -> None:
    spec = find_spec(action(python_folder(tmp_path, "purelib\n")))
    assert spec is not None and spec.ecosystem == "python"
    assert spec.requirements == ("purelib",)
    assert spec.files == (("requirements.txt", b"purelib\n"),)


def test_pyproject_dependencies_join_the_requirements(tmp_path: Path) -> None:
    python_folder(tmp_path, "purelib\n")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["puresrc==1.0"]\n'
    )
    spec = find_spec(action(tmp_path))
    assert spec is not None and spec.requirements == ("purelib", "puresrc==1.0")
    assert [name for name, _ in spec.files] == ["pyproject.toml", "requirements.txt"]


def test_a_broken_pyproject_is_reported(tmp_path: Path) -> None:
    (tmp_path / "__main__.py").write_text("")
    (tmp_path / "pyproject.toml").write_text("[project\n")
    with pytest.raises(DependencyError, match=r"pyproject\.toml: expected TOML"):
        find_spec(action(tmp_path))


def test_a_folder_that_ships_its_own_virtualenv_or_node_modules_is_left_alone(
    tmp_path: Path,
) -> None:
    python_folder(tmp_path, "purelib\n")
    (tmp_path / "virtualenv").mkdir()
    assert find_spec(action(tmp_path)) is None
    (tmp_path / "package.json").write_text('{"dependencies": {"x": "1"}}')
    (tmp_path / "node_modules").mkdir()
    assert find_spec(action(tmp_path, "nodejs:20")) is None


def test_a_requirements_file_that_is_not_utf8_is_reported(tmp_path: Path) -> None:
    python_folder(tmp_path, "")
    (tmp_path / "requirements.txt").write_bytes(b"caf\xe9\n")
    with pytest.raises(DependencyError, match="expected UTF-8 text"):
        find_spec(action(tmp_path))


def test_node_dependencies_without_a_lockfile_say_to_run_npm_install(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"uuid": "^9.0.0"}}')
    with pytest.raises(DependencyError) as err:
        find_spec(action(tmp_path, "nodejs:20"))
    assert "no package-lock.json" in str(err.value) and "run `npm install`" in str(err.value)
    assert "uuid" in str(err.value)


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("{not json", "expected JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"dependencies": ["uuid"]}', "expected an object of name -> version strings"),
        ("[" * 100_000 + "]" * 100_000, "expected JSON"),
    ],
)
def test_a_package_json_that_cannot_be_read_is_reported(
    tmp_path: Path, package: str, expected: str
) -> None:
    (tmp_path / "package.json").write_text(package)
    with pytest.raises(DependencyError, match=expected):
        find_spec(action(tmp_path, "nodejs:20"))


def test_a_package_json_without_dependencies_needs_nothing(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"main": "index.js", "devDependencies": {"x": "1"}}')
    assert find_spec(action(tmp_path, "nodejs:20")) is None


def test_a_node_spec_holds_package_json_and_the_lockfile(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text('{"dependencies": {"x": "1"}}')
    (tmp_path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3}))
    spec = find_spec(action(tmp_path, "nodejs:22"))
    assert spec is not None and [n for n, _ in spec.files] == ["package-lock.json", "package.json"]


def test_single_files_inline_code_and_other_families_have_no_spec(tmp_path: Path) -> None:
    python_folder(tmp_path, "purelib\n")
    assert (
        find_spec(ActionSpec(None, "a", "python:3.11", function=tmp_path / "__main__.py")) is None
    )
    assert find_spec(ActionSpec(None, "a", "python:3.11", code="def main(a): return a")) is None
    assert find_spec(action(tmp_path, "java:8")) is None


def test_targets_follow_the_kind_not_this_machine() -> None:
    t311 = python_target("python:3.11")
    assert (t311.version, t311.abi) == ("3.11", "cp311")
    assert "manylinux2014_x86_64" in t311.platforms
    assert "manylinux_2_17_x86_64" in t311.platforms and "manylinux_2_31_x86_64" in t311.platforms
    assert "manylinux_2_32_x86_64" not in t311.platforms
    old = python_target("python:3")
    assert old.version == "3.7" and "manylinux_2_28_x86_64" not in old.platforms
    assert "manylinux_2_24_x86_64" in old.platforms
    assert python_target("python:default").version == "3.10"
    assert python_target("python:3.12").abi == "cp312"
    assert node_major("nodejs:22") == "22" and node_major("nodejs:default") == "20"
    with pytest.raises(DependencyError, match="python:2.7"):
        python_target("python:2.7")


def test_cache_keys_change_with_the_spec_and_the_kind_only(tmp_path: Path) -> None:
    first = find_spec(action(python_folder(tmp_path / "a", "purelib\n")))
    same = find_spec(action(python_folder(tmp_path / "b", "purelib\n")))
    changed = find_spec(action(python_folder(tmp_path / "c", "purelib==1.0\n")))
    assert first is not None and same is not None and changed is not None
    key = spec_key(first, "python:3.11", "p")
    assert key == spec_key(same, "python:3.11", "p")  # the folder's path is not in it
    assert key != spec_key(changed, "python:3.11", "p")
    assert key != spec_key(first, "python:3.12", "p")
    assert key != spec_key(first, "python:3.11", "q")
    assert zip_key(key, "code-1") != zip_key(key, "code-2")


def test_the_cache_root_honours_the_override_then_xdg_then_home() -> None:
    assert cache_root({"OWDEPLOY_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}) == Path("/c")
    assert cache_root({"XDG_CACHE_HOME": "/x", "HOME": "/h"}) == Path("/x/owdeploy")
    assert cache_root({"XDG_CACHE_HOME": "relative", "HOME": "/h"}) == Path("/h/.cache/owdeploy")
    assert cache_root({"HOME": "/h"}) == Path("/h/.cache/owdeploy")


def zipped(path: Path, files: dict[str, str]) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


def test_a_zip_given_as_code_is_read_for_a_spec_too(tmp_path: Path) -> None:
    source = zipped(tmp_path / "a.zip", {"__main__.py": "", "requirements.txt": "purelib\n"})
    spec = find_spec(action(source))
    assert spec is not None and spec.archive == source and spec.folder == tmp_path
    assert spec.requirements == ("purelib",)
    shipped = zipped(
        tmp_path / "b.zip",
        {"__main__.py": "", "requirements.txt": "x\n", "virtualenv/bin/activate_this.py": ""},
    )
    assert find_spec(action(shipped)) is None
    (tmp_path / "c.zip").write_bytes(b"not a zip")
    assert find_spec(action(tmp_path / "c.zip")) is None


def test_a_zip_with_node_dependencies_and_no_lockfile_is_reported(tmp_path: Path) -> None:
    source = zipped(tmp_path / "n.zip", {"package.json": '{"dependencies": {"uuid": "9"}}'})
    with pytest.raises(DependencyError, match=r"n\.zip: package\.json has dependencies"):
        find_spec(action(source, "nodejs:20"))
    broken = zipped(tmp_path / "p.zip", {"requirements.txt": "ok\nnot valid!!\n"})
    with pytest.raises(
        DependencyError, match=r"p\.zip/requirements\.txt:2: expected a requirement"
    ):
        find_spec(action(broken))


def test_a_lenient_read_keys_the_same_but_only_a_strict_one_checks_each_line(
    tmp_path: Path,
) -> None:
    python_folder(tmp_path, "purelib\nnot valid!!\n")
    lenient = find_spec(action(tmp_path), strict=False)
    assert lenient is not None and lenient.requirements == ("purelib", "not valid!!")
    with pytest.raises(DependencyError, match=r"requirements\.txt:2"):
        find_spec(action(tmp_path))


def test_non_utf8_requirements_name_the_file_byte_and_offset(tmp_path: Path) -> None:
    folder = python_folder(tmp_path, "")
    (folder / "requirements.txt").write_bytes(b"purelib\nmarkup\xfesafe\n")
    with pytest.raises(DependencyError) as err:
        find_spec(action(folder))
    assert str(err.value) == (
        f"{folder / 'requirements.txt'}: expected UTF-8 text, found byte 0xfe at byte offset 14"
        " (line 2), which is not valid UTF-8 there (hint: save the file as UTF-8)"
    )
    (folder / "requirements.txt").write_bytes(b"\xef\xbb\xbfab\xff\n")  # after a byte order mark
    with pytest.raises(DependencyError, match=r"byte 0xff at byte offset 5 \(line 1\)"):
        find_spec(action(folder))


def test_more_requirement_lines_than_the_limit_are_refused_with_the_count(tmp_path: Path) -> None:
    from deploy.dependencies.spec import MAX_REQUIREMENTS

    lines = "".join(f"pkg{n}==1.0\n" for n in range(MAX_REQUIREMENTS))
    folder = python_folder(tmp_path / "ok", lines)
    assert len(find_spec(action(folder)).requirements) == MAX_REQUIREMENTS
    folder = python_folder(tmp_path / "big", "# many\n" + lines + "one-more\n")
    with pytest.raises(DependencyError) as err:
        find_spec(action(folder), strict=False)  # the cache-key read refuses it too
    assert str(err.value).startswith(
        f"{folder / 'requirements.txt'}: expected at most {MAX_REQUIREMENTS} requirement lines,"
        f" found {MAX_REQUIREMENTS + 1}"
    )


def node_folder(tmp_path: Path, dependencies: dict, packages: dict) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "package.json").write_text(json.dumps({"name": "a", "dependencies": dependencies}))
    lock = {"name": "a", "lockfileVersion": 3, "packages": {"": {"name": "a"}, **packages}}
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    return tmp_path


@pytest.mark.parametrize(
    "spec", ["file:../../../x-1.0.0.tgz", "file:/elsewhere/x-1.0.0.tgz", "file:vendor/../../x.tgz"]
)
def test_a_file_dependency_outside_the_action_folder_is_refused(tmp_path: Path, spec: str) -> None:
    folder = node_folder(tmp_path / "act", {"x": spec}, {"node_modules/x": {"resolved": spec}})
    with pytest.raises(DependencyError) as err:
        find_spec(action(folder, "nodejs:20"))
    message = str(err.value)
    assert message.startswith(f"{folder / 'package.json'}: dependencies x: expected a file:")
    assert f"found {spec}, which is outside it" in message and "runs in a copy" in message


def test_file_tarballs_inside_the_folder_pass_and_folder_dependencies_are_refused(
    tmp_path: Path,
) -> None:
    inside = node_folder(
        tmp_path / "in",
        {"x": "file:vendor/x-1.0.0.tgz"},
        {"node_modules/x": {"resolved": "file:vendor/x-1.0.0.tgz"}},
    )
    assert find_spec(action(inside, "nodejs:20")) is not None
    linked = node_folder(
        tmp_path / "link",
        {"x": "file:../x"},
        {"../x": {"name": "x"}, "node_modules/x": {"resolved": "../x", "link": True}},
    )
    with pytest.raises(
        DependencyError,
        match=r"package-lock\.json: packages node_modules/x: .*folder dependency \(\.\./x\)",
    ):
        find_spec(action(linked, "nodejs:20"))
