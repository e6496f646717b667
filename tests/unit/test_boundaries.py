"""The import graph stays one-way, and each side effect lives in one room.

An ``ast`` scan of every module's imports and calls (chalice's lint checkers, in
miniature): actions, deploy and localwhisk never reach into each other; both sides
may read ``whiskfacts``, which reads nothing of theirs; inside each package, the
subpackage that owns a side effect is the only one that performs it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)

# Calls that start or signal a process, wherever they are imported from.
PROCESS_CALLS = {
    "create_subprocess_exec",
    "create_subprocess_shell",
    "fork",
    "forkpty",
    "posix_spawn",
    "posix_spawnp",
    "Popen",
    "execv",
    "execve",
    "execvp",
    "killpg",
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, absolute and dotted (``from a import b`` gives a and a.b)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            assert node.level == 0, f"{path}: relative import; the tree uses absolute imports"
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def imported_roots(path: Path) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(path)}


def called_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                names.add(func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


def modules(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no modules under {folder}/"
    return found


def room(path: Path, package: str) -> str:
    """The subpackage a module lives in (``runtime``), or ``""`` for the package's top level."""
    parts = path.relative_to(ROOT / package).parts
    return parts[0] if len(parts) > 1 else ""


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", modules("actions"), ids=rel)
def test_actions_use_only_the_standard_library(path):
    # Nothing outside it may be assumed of a runtime; certifi (which the OpenWhisk Python
    # images ship with requests) is used when present, for the CAs requests trusted. The
    # modules beside an action's __main__.py travel in its zip, so they may be imported too.
    own = {p.stem for p in path.parent.glob("*.py") if p.name != "__main__.py"}
    foreign = imported_roots(path) - STDLIB - {"certifi"} - own
    assert not foreign, f"{rel(path)} imports {sorted(foreign)}"


@pytest.mark.parametrize("path", modules("deploy"), ids=rel)
def test_deploy_never_imports_the_local_server(path):
    assert not imported_roots(path) & {"localwhisk", "actions"}, "deploy reaches servers over HTTP"


@pytest.mark.parametrize("path", modules("localwhisk"), ids=rel)
def test_localwhisk_never_imports_the_deploy_tool_or_actions(path):
    assert not imported_roots(path) & {"deploy", "actions"}


@pytest.mark.parametrize("path", modules("whiskfacts"), ids=rel)
def test_the_shared_facts_import_only_the_standard_library(path):
    foreign = imported_roots(path) - STDLIB - {"whiskfacts"}
    assert not foreign, f"{rel(path)} imports {sorted(foreign)}"


@pytest.mark.parametrize(
    ("package", "library", "owner"),
    [
        ("deploy", "requests", "http"),
        ("deploy", "http", "http"),
        ("deploy", "urllib3", "http"),
        ("deploy", "socket", "http"),
        # pip and npm, run to build an action's dependencies
        ("deploy", "subprocess", "dependencies"),
        ("localwhisk", "sqlite3", "storage"),
        ("localwhisk", "subprocess", "runtime"),
        ("localwhisk", "multiprocessing", "runtime"),
    ],
)
def test_one_room_owns_each_side_effect(package, library, owner):
    users = {rel(p) for p in modules(package) if library in imported_roots(p)}
    outside = sorted(u for u in users if room(ROOT / u, package) != owner)
    assert not outside, f"{library} is imported by {outside}; only {package}/{owner}/ may"


def test_only_the_runtime_starts_or_signals_processes():
    outside = {
        rel(p): sorted(called_names(p) & PROCESS_CALLS)
        for p in modules("localwhisk")
        if room(p, "localwhisk") != "runtime" and called_names(p) & PROCESS_CALLS
    }
    assert not outside, f"process calls outside localwhisk/runtime/: {outside}"


@pytest.mark.parametrize(
    ("room_name", "forbidden"),
    [
        # The runtime runs code; it knows nothing of HTTP, storage or the controller.
        ("runtime", {"localwhisk.api", "localwhisk.platform", "localwhisk.storage"}),
        # Storage is state only.
        ("storage", {"localwhisk.api", "localwhisk.platform", "localwhisk.runtime"}),
        # The controller never sees a request or a process.
        ("platform", {"localwhisk.api", "localwhisk.runtime.runner"}),
    ],
)
def test_localwhisk_rooms_depend_one_way(room_name, forbidden):
    bad = {
        rel(p): sorted(m for m in imported_modules(p) if m.startswith(tuple(forbidden)))
        for p in modules(f"localwhisk/{room_name}")
    }
    bad = {k: v for k, v in bad.items() if v}
    assert not bad, f"localwhisk/{room_name}/ reaches into {bad}"


def test_deploy_manifest_reading_is_pure():
    # Reading a manifest never touches the network, zips or the plan.
    for path in modules("deploy/manifest"):
        reached = {m for m in imported_modules(path) if m.startswith("deploy.")}
        allowed = ("deploy.manifest", "deploy.models", "deploy.errors")
        assert all(m.startswith(allowed) for m in reached), f"{rel(path)} imports {reached}"


def test_the_scan_sees_imports_and_calls(tmp_path):
    # Guard against a scanner that silently finds nothing.
    sample = tmp_path / "m.py"
    sample.write_text(
        "import os\nfrom deploy.http import client\nimport localwhisk.storage.store as s\n"
        "os.killpg(1, 9)\n"
    )
    assert imported_roots(sample) == {"os", "deploy", "localwhisk"}
    assert "deploy.http.client" in imported_modules(sample)
    assert "killpg" in called_names(sample)
