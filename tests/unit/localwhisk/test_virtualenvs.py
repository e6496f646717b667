"""Per-kind Python environments: where they are looked for, what a missing one means, what
the server says, and that a changed requirement list or interpreter gets a new folder.
Nothing is built here (``make runtimes`` does that); a built one is faked on disk."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from localwhisk.runtime import pythons, virtualenvs
from localwhisk.runtime.images import IMAGES, Image


def test_a_missing_environment_runs_on_the_standard_library_only_and_says_so(
    tmp_path: Path,
) -> None:
    env = virtualenvs.locate("python:3.11", tmp_path)
    assert not env.built
    assert env.argv() == [env.interpreter.path, "-u", "-I", "-S"]  # no site-packages at all
    assert "standard library only" in env.describe() and "make runtimes" in env.describe()
    assert env.shown() == [Path(env.interpreter.prefix).resolve()]


def test_a_built_environment_is_used_with_its_site_packages(tmp_path: Path) -> None:
    image = IMAGES["python:3.11"]
    interpreter = virtualenvs.interpreter_for(image)
    folder = virtualenvs.folder_for(image, interpreter, tmp_path)
    (folder / "bin").mkdir(parents=True)
    os.symlink(interpreter.path, folder / "bin" / "python")
    env = virtualenvs.locate("python:3.11", tmp_path)
    assert not env.built  # no completion mark: an interrupted build is not used
    (folder / virtualenvs.COMPLETE).write_text("")
    env = virtualenvs.locate("python:3.11", tmp_path)
    assert env.built and env.argv() == [str(folder / "bin" / "python"), "-u", "-I"]
    assert folder in env.shown()


def test_a_changed_requirement_list_or_interpreter_gets_a_folder_of_its_own(
    tmp_path: Path,
) -> None:
    image = IMAGES["python:3.11"]
    interpreter = virtualenvs.interpreter_for(image)
    changed = tmp_path / "changed.txt"
    changed.write_text(image.requirements_text() + "six==1.16.0\n")
    other_list = Image(image.kind, image.python, str(changed))
    other_python = replace(interpreter, path="/opt/other/python3.11")
    folders = {
        virtualenvs.folder_for(image, interpreter, tmp_path),
        virtualenvs.folder_for(other_list, interpreter, tmp_path),
        virtualenvs.folder_for(image, other_python, tmp_path),
    }
    assert len(folders) == 3
    assert virtualenvs.folder_for(image, interpreter, tmp_path) in folders  # stable


def test_the_start_lines_name_each_kind_not_served_as_on_the_platform(tmp_path: Path) -> None:
    exact = virtualenvs.locate("python:3.11", tmp_path)
    exact = replace(exact, folder=tmp_path / "python3.11-x")
    stand_in = replace(exact, kind="python:3.12", wanted="3.12", folder=None)
    lines = virtualenvs.describe_all({"python:3.11": exact, "python:3.12": stand_in})
    assert lines[0].startswith(f"python kinds: python:3.11 on {exact.interpreter.dotted}")
    assert "not 3.12 as on the platform" in lines[1] and "make runtimes" in lines[1]
    assert len(lines) == 2


def test_a_kinds_python_is_the_real_executable_of_its_version() -> None:
    found = pythons.find("3.11")
    assert found is not None and found.minor == "3.11"  # the server itself runs on 3.11
    assert os.path.realpath(found.path) == found.path and "shims" not in found.path
    assert pythons.find("2.9") is None
    assert pythons.inspect("/nonexistent/python") is None
