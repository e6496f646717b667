"""The exception trees drawn in ``localwhisk/errors.py`` and ``deploy/errors.py`` are the real ones.

Each drawing is parsed (a class name per line, its depth by the column it starts at, plus
the HTTP status or exit code written beside it) and compared with the classes: every
subclass of the root defined anywhere in the package must be drawn, under its real base,
with the number its class carries.
"""

from __future__ import annotations

import importlib
import pathlib
import pkgutil
import re
from types import ModuleType

import pytest

import deploy
import deploy.errors
import localwhisk
import localwhisk.errors

# "     ├─ BadRequest              400" / "     │   └─ ApplyFailed   exit 1  ..."
_NODE = re.compile(r"^(?P<lead>[ │├└─]*)(?P<name>[A-Z]\w*)\b(?P<rest>.*)$")


def parse_tree(doc: str, root: str) -> dict[str, tuple[str | None, str]]:
    """{class: (drawn parent or None for the root, text after the name)} from a docstring."""
    lines = doc.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.strip() == root or line.strip().startswith(f"{root} ")
    )
    drawn: dict[str, tuple[str | None, str]] = {}
    stack: list[tuple[int, str]] = []  # (column of the name, name), outermost first
    for line in lines[start:]:
        if not line.strip():
            break
        found = _NODE.match(line)
        assert found is not None, f"cannot read this line of the drawn tree: {line!r}"
        column, name = len(found["lead"]), found["name"]
        while stack and stack[-1][0] >= column:
            stack.pop()
        assert name not in drawn, f"{name} is drawn twice"
        drawn[name] = (stack[-1][1] if stack else None, found["rest"])
        stack.append((column, name))
    return drawn


def real_tree(package: ModuleType, root: type) -> dict[str, str | None]:
    """{class: base class name} for every subclass of ``root`` that ``package`` defines."""
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        if not module.name.endswith("__main__"):
            importlib.import_module(module.name)
    real: dict[str, str | None] = {root.__name__: None}
    pending = [root]
    while pending:
        cls = pending.pop()
        for sub in cls.__subclasses__():
            if sub.__module__.split(".")[0] == package.__name__:
                real[sub.__name__] = cls.__name__
                pending.append(sub)
    return real


def test_parse_tree_reads_depth_from_the_column():
    doc = "Intro.\n\n    Root  1\n     ├─ A   2\n     │   └─ B\n     └─ C\n          └─ D 3\n\nEnd."
    assert parse_tree(doc, "Root") == {
        "Root": (None, "  1"),
        "A": ("Root", "   2"),
        "B": ("A", ""),
        "C": ("Root", ""),
        "D": ("C", " 3"),
    }


CASES = [
    pytest.param(localwhisk, localwhisk.errors, localwhisk.errors.ApiError, id="localwhisk"),
    pytest.param(deploy, deploy.errors, deploy.errors.DeployError, id="deploy"),
]


@pytest.mark.parametrize(("package", "module", "root"), CASES)
def test_drawn_tree_is_the_class_hierarchy(package, module, root):
    drawn = parse_tree(module.__doc__, root.__name__)
    real = real_tree(package, root)
    assert {name: parent for name, (parent, _) in drawn.items()} == real


@pytest.mark.parametrize(("package", "module", "root"), CASES)
def test_numbers_beside_the_drawn_classes_are_the_classes_own(package, module, root):
    classes = {cls.__name__: cls for cls in _all_subclasses(root)} | {root.__name__: root}
    checked = 0
    for name, (_, rest) in parse_tree(module.__doc__, root.__name__).items():
        if root is localwhisk.errors.ApiError:
            status = re.match(r"\s+(\d{3})\b", rest)
            if status:
                assert classes[name].status == int(status[1]), name
                checked += 1
        else:
            code = re.match(r"\s+exit (\d)\b", rest)
            assert code, f"{name} is drawn without its exit code"
            assert classes[name].exit_code == int(code[1]), name
            checked += 1
    assert checked >= 10  # the drawing carries its numbers; a parser that reads none fails


def _all_subclasses(root: type) -> list[type]:
    found, pending = [], [root]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def test_every_leaf_error_class_is_used_outside_its_definition():
    """A failure class nothing raises is dead weight: each leaf is named by some other line."""
    repo = pathlib.Path(localwhisk.__file__).resolve().parent.parent
    lines = [
        line
        for folder in ("localwhisk", "deploy")
        for path in (repo / folder).rglob("*.py")
        if path.name != "errors.py"  # its drawing names every class
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("class ")
    ]
    for _, module, root in (case.values for case in CASES):
        drawn = parse_tree(module.__doc__, root.__name__)
        parents = {parent for parent, _ in drawn.values()}
        for name in drawn.keys() - parents:
            pattern = re.compile(rf"\b{name}\b")
            assert any(pattern.search(line) for line in lines), (
                f"{module.__name__}: {name} is never used"
            )
