"""The import graph stays one-way: actions, deploy and localwhisk never reach into each other.

An ``ast`` scan of every module's imports (chalice's lint checkers, in miniature).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def modules(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, f"no modules under {folder}/"
    return found


@pytest.mark.parametrize("path", modules("actions"), ids=lambda p: str(p.relative_to(ROOT)))
def test_actions_use_only_the_standard_library_and_requests(path):
    # The OpenWhisk Python images ship requests; nothing else may be assumed.
    foreign = imported_roots(path) - STDLIB - {"requests"}
    assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}"


@pytest.mark.parametrize("path", modules("deploy"), ids=lambda p: str(p.relative_to(ROOT)))
def test_deploy_never_imports_the_local_server(path):
    assert "localwhisk" not in imported_roots(path), "deploy reaches servers only over HTTP"


@pytest.mark.parametrize("path", modules("localwhisk"), ids=lambda p: str(p.relative_to(ROOT)))
def test_localwhisk_never_imports_the_deploy_tool_or_actions(path):
    assert not imported_roots(path) & {"deploy", "actions"}


@pytest.mark.parametrize(
    ("package", "library", "owner"),
    [
        ("deploy", "requests", "sessions.py"),
        ("deploy", "http", "transport.py"),
        ("localwhisk", "sqlite3", "store.py"),
        ("localwhisk", "subprocess", "runner.py"),
    ],
)
def test_one_module_owns_each_side_effect(package, library, owner):
    users = [p.name for p in modules(package) if library in imported_roots(p)]
    assert users in ([], [owner]), f"{library} is imported by {users}; only {package}/{owner} may"


def test_the_scan_sees_imports(tmp_path):
    # Guard against a scanner that silently finds nothing.
    sample = tmp_path / "m.py"
    sample.write_text("import os\nfrom deploy.client import x\nimport localwhisk.store as s\n")
    assert imported_roots(sample) == {"os", "deploy", "localwhisk"}
