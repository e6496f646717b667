"""Dependency builds with real pip and npm against a package index made in the test
(``tests/localindex.py``): what the zip holds, that the runtime's launcher can activate
it, refusals, the cache, deterministic bytes; and the size and plan messages."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import localindex
import pytest
from plan_builders import ART_T, desired, manifest, on_server

from deploy.bundle import build_artifact, contributors
from deploy.dependencies.cache import Cache
from deploy.dependencies.packing import with_dependencies
from deploy.errors import DependencyError, PreflightError
from deploy.models import ActionSpec, Artifact
from deploy.plan import build_plan
from deploy.preflight import check, code_size_limit

MB = 1024 * 1024
REQUIREMENTS = "fastsum==1.0\npurelib>=1.0\npuresrc==1.0\n"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return localindex.python_index(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def env(index: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    npm = tmp_path_factory.mktemp("npm-home")
    return {**os.environ, **localindex.pip_env(index), **localindex.npm_env(npm)}


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]
) -> tuple[ActionSpec, Any, Cache]:
    folder = localindex.python_action(tmp_path_factory.mktemp("py") / "act", REQUIREMENTS)
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    cache = Cache(tmp_path_factory.mktemp("cache"))
    return spec, with_dependencies(spec, build_artifact(spec), cache, env), cache


def names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_the_zip_holds_a_virtualenv_for_the_kind(built: Any) -> None:
    spec, packed, _ = built
    assert packed.built and packed.artifact.binary and packed.artifact.dependencies
    site = f"virtualenv/lib/python{localindex.KIND.split(':')[1]}/site-packages"
    held = names(packed.artifact.data)
    assert "__main__.py" in held and "virtualenv/bin/activate_this.py" in held
    assert f"{site}/purelib/__init__.py" in held and f"{site}/puresrc.py" in held
    assert any(n.startswith(f"{site}/fastsum.cpython-") and n.endswith(".so") for n in held)
    # nothing that names the building machine: console scripts, direct_url.json, bytecode
    assert not [n for n in held if "/bin/" in n and not n.endswith("activate_this.py")]
    assert not [n for n in held if n.endswith(("direct_url.json", ".pyc"))]


def test_the_runtime_launcher_activates_it_and_imports_the_compiled_package(
    built: Any, tmp_path: Path
) -> None:
    _, packed, _ = built
    zipfile.ZipFile(io.BytesIO(packed.artifact.data)).extractall(tmp_path)
    # What apache/openwhisk-runtime-python's launcher does, in a clean interpreter of the kind's version.
    probe = (
        "import os, sys\n"
        "f = os.path.abspath('./virtualenv') + '/bin/activate_this.py'\n"
        "exec(compile(open(f).read(), f, 'exec'), dict(__file__=f))\n"
        "import fastsum, puresrc\n"
        "print(fastsum.add(40, 2), puresrc.ANSWER, sys.path[0].endswith('site-packages'),"
        " os.environ['VIRTUAL_ENV'] == os.path.abspath('virtualenv'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True
    )
    assert done.stdout.split() == ["42", "42", "True", "True"], done.stderr


def test_an_unchanged_spec_is_not_built_again_and_gives_the_same_bytes(
    built: Any, env: dict[str, str]
) -> None:
    spec, packed, cache = built
    again = with_dependencies(spec, build_artifact(spec), cache, env)
    assert not again.built and again.artifact == packed.artifact


def test_zips_are_the_same_bytes_from_another_cache_and_folder(
    built: Any, env: dict[str, str], tmp_path: Path
) -> None:
    _, packed, _ = built
    folder = localindex.python_action(tmp_path / "elsewhere" / "act", REQUIREMENTS)
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    other = with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), env)
    assert other.built and other.artifact.sha256 == packed.artifact.sha256
    infos = zipfile.ZipFile(io.BytesIO(other.artifact.data)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_changed_code_keeps_the_build_and_rezips(built: Any, env: dict[str, str]) -> None:
    spec, packed, cache = built
    main = spec.function / "__main__.py"
    original = main.read_text()
    try:
        main.write_text(original + "\n# edited\n")
        edited = with_dependencies(spec, build_artifact(spec), cache, env)
    finally:
        main.write_text(original)
    assert not edited.built  # the dependency tree came from the cache
    assert edited.artifact.sha256 != packed.artifact.sha256
    assert edited.artifact.dependencies == packed.artifact.dependencies


def test_a_zip_given_as_code_gets_its_dependencies_added(
    built: Any, env: dict[str, str], tmp_path: Path
) -> None:
    spec, packed, cache = built
    source = tmp_path / "given.zip"
    with zipfile.ZipFile(source, "w") as archive:
        for name in ("__main__.py", "requirements.txt"):
            archive.write(spec.function / name, name)
    given = ActionSpec(None, "py", localindex.KIND, function=source)
    zipped = with_dependencies(given, build_artifact(given), cache, env)
    assert not zipped.built  # the same requirements.txt: the tree is the cached one
    assert names(zipped.artifact.data) == names(packed.artifact.data)
    assert zipped.artifact.sha256 == packed.artifact.sha256  # same files, same bytes
    assert not list((cache.root / "tmp").iterdir())  # the unpacked copy is gone


@pytest.mark.parametrize(
    ("requirement", "said"),
    [
        ("nativesrc==1.0", "builds a wheel for this machine only"),
        ("winonly==1.0", "no source distribution that builds either"),
        ("absent-package", "no source distribution that builds either"),
    ],
)
def test_a_package_with_no_wheel_for_the_target_is_refused_by_name(
    tmp_path: Path, env: dict[str, str], requirement: str, said: str
) -> None:
    folder = localindex.python_action(tmp_path / "act", f"purelib\n{requirement}\n")
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    cache = Cache(tmp_path / "cache")
    with pytest.raises(DependencyError) as err:
        with_dependencies(spec, build_artifact(spec), cache, env)
    message = str(err.value)
    assert f"{requirement}: expected a wheel for {localindex.KIND} (CPython" in message
    assert f"found none (looked in the links {env['PIP_FIND_LINKS']} (--no-index))" in message
    assert said in message and "manylinux x86_64" in message
    assert err.value.exit_code == 2
    assert not list((tmp_path / "cache" / "tmp").iterdir())  # no half-built tree left
    assert not (tmp_path / "cache" / "trees").exists()


def test_an_unreachable_index_is_named_without_its_credentials(
    tmp_path: Path, env: dict[str, str]
) -> None:
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: connection refused
    folder = localindex.python_action(
        tmp_path / "act",
        f"--index-url http://deployer:s3cret@127.0.0.1:{port}/simple\npurelib\nabsent-package\n",
    )
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    lenient = {k: v for k, v in env.items() if k != "PIP_NO_INDEX"} | {"PIP_RETRIES": "0"}
    with pytest.raises(DependencyError) as err:
        with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), lenient)
    message = str(err.value)
    assert f"the package index http://127.0.0.1:{port}/simple could not be reached:" in message
    assert "Connection refused" in message and "no wheel" not in message
    assert "s3cret" not in message and "deployer" not in message


def test_the_machines_pip_configuration_is_not_read(tmp_path: Path, env: dict[str, str]) -> None:
    # A pip.conf that would offer the package; pip must not see it, and says where it looked.
    conf = tmp_path / "pip.conf"
    conf.write_text(f"[global]\nfind-links = {env['PIP_FIND_LINKS']}\nno-index = true\n")
    folder = localindex.python_action(tmp_path / "act", "puresrc\n")
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    machine = {k: v for k, v in env.items() if not k.startswith("PIP_")}
    machine |= {"PIP_CONFIG_FILE": str(conf), "XDG_CONFIG_HOME": str(tmp_path), "PIP_NO_INDEX": "1"}
    (tmp_path / "pip").mkdir()
    (tmp_path / "pip" / "pip.conf").write_text(conf.read_text())
    with pytest.raises(DependencyError) as err:
        with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), machine)
    assert "puresrc: expected a wheel for" in str(err.value)
    assert "found none (looked in nothing (--no-index, no --find-links))" in str(err.value)


def test_a_source_build_is_announced_before_it_runs(tmp_path: Path, env: dict[str, str]) -> None:
    folder = localindex.python_action(tmp_path / "act", "purelib\npuresrc==1.0\n")
    spec = ActionSpec(None, "py", localindex.KIND, function=folder)
    said: list[str] = []
    with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), env, note=said.append)
    assert said == [
        f"building dependencies for py ({localindex.KIND})…",
        "dependencies of py: built from source: puresrc==1.0 (runs its build code on this machine)",
    ]


def test_a_wheel_for_another_python_version_is_not_taken(
    tmp_path: Path, env: dict[str, str]
) -> None:
    # fastsum has a cp3X wheel for this interpreter only: python:3.9 must not get it.
    folder = localindex.python_action(tmp_path / "act", "fastsum==1.0\n")
    spec = ActionSpec(None, "py", "python:3.9", function=folder)
    with pytest.raises(DependencyError, match=r"fastsum==1\.0: expected a wheel for python:3\.9"):
        with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), env)


def test_node_dependencies_install_from_the_lockfile_without_dev_ones(
    tmp_path: Path, env: dict[str, str]
) -> None:
    tarballs = localindex.node_packages(tmp_path / "tarballs")
    folder = localindex.node_action(tmp_path / "act", tarballs)
    spec = ActionSpec(None, "js", "nodejs:20", function=folder)
    cache = Cache(tmp_path / "cache")
    packed = with_dependencies(spec, build_artifact(spec), cache, env)
    held = names(packed.artifact.data)
    assert "node_modules/padstart-lite/index.js" in held and "index.js" in held
    assert not [n for n in held if "devonly-lite" in n]  # --omit=dev
    assert "node_modules/.package-lock.json" not in held
    again = with_dependencies(spec, build_artifact(spec), cache, env)
    assert not again.built and again.artifact.sha256 == packed.artifact.sha256
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(io.BytesIO(packed.artifact.data)).extractall(unpacked)
    done = subprocess.run(
        ["node", "-e", "console.log(JSON.stringify(require('./index.js').main({n: 7})))"],
        cwd=unpacked,
        capture_output=True,
        text=True,
    )
    assert done.stdout.strip() == '{"padded":"007","dev":"absent"}', done.stderr


def test_npm_ci_failing_is_reported_with_the_fix(tmp_path: Path, env: dict[str, str]) -> None:
    tarballs = localindex.node_packages(tmp_path / "tarballs")
    folder = localindex.node_action(tmp_path / "act", tarballs)
    package = (folder / "package.json").read_text()
    (folder / "package.json").write_text(package.replace('"padstart-lite"', '"other-name"', 1))
    spec = ActionSpec(None, "js", "nodejs:20", function=folder)
    with pytest.raises(DependencyError) as err:
        with_dependencies(spec, build_artifact(spec), Cache(tmp_path / "cache"), env)
    message = str(err.value)
    # npm's own error lines, not the usage text it prints after them
    assert "npm ci --omit=dev failed:\n  npm error code EUSAGE\n" in message
    assert "npm error Missing: other-name@1.0.0 from lock file" in message
    assert "Usage:" not in message and "Clean install a project" not in message
    assert message.endswith(
        "run `npm install` there to bring package-lock.json in line with package.json)"
    )
    assert len(message.splitlines()) <= 2 + 9


def test_npm_install_scripts_run_only_when_allowed(tmp_path: Path, env: dict[str, str]) -> None:
    folder = localindex.scripted_action(tmp_path, env)
    spec = ActionSpec(None, "js", "nodejs:20", function=folder)
    cache, said = Cache(tmp_path / "cache"), []
    packed = with_dependencies(spec, build_artifact(spec), cache, env, note=said.append)
    assert "node_modules/scripted-lite/index.js" in names(packed.artifact.data)
    assert not (tmp_path / "script-ran").exists()  # --ignore-scripts
    assert said == [
        "building dependencies for js (nodejs:20)…",
        "dependencies of js: install scripts of scripted-lite not run (hint: --allow-npm-scripts"
        " runs them on this machine, if the package needs them)",
    ]
    # npm_config_ignore_scripts=false in the environment does not turn them on
    quiet = with_dependencies(
        spec,
        build_artifact(spec),
        Cache(tmp_path / "c2"),
        {**env, "npm_config_ignore_scripts": "false"},
    )
    assert not (tmp_path / "script-ran").exists() and quiet.built
    said.clear()
    allowed = with_dependencies(
        spec, build_artifact(spec), cache, env, note=said.append, npm_scripts=True
    )
    assert allowed.built  # another cache entry than the build without scripts
    assert (tmp_path / "script-ran").exists()
    assert (
        said[1]
        == "dependencies of js: install scripts of scripted-lite run on this machine (--allow-npm-scripts)"
    )


def test_the_size_limit_names_the_biggest_parts(built: Any) -> None:
    _, packed, _ = built
    m = manifest(actions=(ActionSpec(None, "my-worker", "python:3.11"), manifest().actions[1]))
    entities = desired(m, {"my-worker": packed.artifact, "test": ART_T})
    info: dict[str, Any] = {"limits": {"max_action_code_size": 1000}, "runtimes": {}}
    with pytest.raises(PreflightError) as err:
        check(entities, [], info, "guest", "http://127.0.0.1:3233")
    [problem] = err.value.problems
    assert problem.startswith("action my-worker: code is ")
    assert "above http://127.0.0.1:3233's limit of 0.0 MB" in problem
    biggest = contributors(packed.artifact.data)
    assert "site-packages/fastsum" in biggest[0][0]  # the compiled extension is the largest
    assert f"the biggest parts, compressed: {biggest[0][0]}" in problem
    info["limits"]["max_action_code_size"] = 48 * MB
    assert check(entities, [], info, "guest") == [
        "the server lists no runtimes in GET /; runtime kinds were not checked"
    ]


def test_the_size_limit_without_get_limits_is_the_platforms() -> None:
    assert code_size_limit({}, "https://ns.adobeioruntime.net") == 22 * MB
    assert code_size_limit({}, "https://openwhisk.example.com") == 48 * MB
    assert code_size_limit({"max_action_code_size": 5}, "https://x.adobeioruntime.net") == 5
    assert code_size_limit({"max_action_code_size": "5"}, "https://x") == 48 * MB


def test_contributors_group_packages_and_node_scopes() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("virtualenv/lib/python3.11/site-packages/big/a.py", b"x" * 5000)
        archive.writestr("virtualenv/lib/python3.11/site-packages/big/b.py", b"x" * 5000)
        archive.writestr("node_modules/@scope/pkg/index.js", b"x" * 3000)
        archive.writestr("node_modules/plain/index.js", b"x" * 2000)
        archive.writestr("__main__.py", b"x" * 100)
    assert [name for name, _ in contributors(buffer.getvalue())] == [
        "virtualenv/lib/python3.11/site-packages/big",
        "node_modules/@scope/pkg",
        "node_modules/plain",
        "__main__.py",
    ]
    assert contributors(b"not a zip") == []


def test_plan_says_when_dependencies_changed() -> None:
    def arts(dependencies: str | None, sha: str) -> dict[str, Artifact]:
        return {"my-worker": Artifact(b"z", sha, True, False, dependencies), "test": ART_T}

    before = [on_server(e) for e in desired(manifest(), arts("deps-1", "sha-1"))]
    changes = {
        c.entity.name: c
        for c in build_plan(
            desired(manifest(), arts("deps-2", "sha-2")), before, "openwhisk-async"
        ).changes
    }
    assert changes["my-worker"].reasons[:2] == ("code changed", "dependencies changed")
    assert not [r for r in changes["my-worker"].reasons if "deploy-dependencies" in r]
    unchanged = build_plan(desired(manifest(), arts("deps-1", "sha-1")), before, "openwhisk-async")
    assert unchanged.is_empty
    removed = build_plan(desired(manifest(), arts(None, "sha-3")), before, "openwhisk-async")
    worker = next(c for c in removed.changes if c.entity.name == "my-worker")
    assert "dependencies removed" in worker.reasons
    assert worker.entity.body.get("delAnnotations") == ["deploy-dependencies-sha256"]
