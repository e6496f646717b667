"""YAML that remembers where each key was: the manifest's messages name lines.

Owns parsing only. PyYAML's safe loader is kept, except that mappings become
``LineDict`` (with each key's line) and lists ``LineList`` (with each item's
line), and a key given twice in one mapping is reported (PyYAML keeps the last
one silently). Parsing goes through libyaml when PyYAML has it (about 10x faster on a
200-action manifest); a file it rejects is parsed again in pure Python so syntax
messages read the same on every install.
"""

from __future__ import annotations

from typing import Any

import yaml


class LineDict(dict):
    """A mapping plus ``line`` (where it starts) and ``lines[key]`` (where each key is)."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}

    def line_of(self, key: Any, default: int | None = None) -> int:
        return self.lines.get(key, default if default is not None else self.line)


class LineList(list):
    """A list plus ``line`` and ``lines[index]``."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else self.line


class _Loader(yaml.SafeLoader):
    """Safe loader that keeps lines and collects duplicate keys instead of dropping them."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.problems: list[str] = []
        self.paths: dict[int, str] = {}  # id(mapping node) -> dotted path, for messages


_LIBYAML = hasattr(yaml, "CSafeLoader")


class _CLoader(yaml.CSafeLoader if _LIBYAML else yaml.SafeLoader):  # type: ignore[misc]
    """``_Loader`` over libyaml's parser: same constructors, same marks (line, column)."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.problems: list[str] = []
        self.paths: dict[int, str] = {}


def _scalar_key(node: yaml.Node) -> Any:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> Any:
    data = LineDict()
    data.line = node.start_mark.line + 1
    yield data
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = _scalar_key(key_node)
        if key is None or key == "<<":
            continue
        line = key_node.start_mark.line + 1
        if key in seen:
            path = ".".join(p for p in (loader.paths.get(id(node), ""), str(key)) if p)
            loader.problems.append(
                f"{loader.file}:{line}: {path}: expected each key once in a mapping,"
                f" found '{key}' again (first at line {seen[key]})"
            )
        else:
            seen[key] = line
    loader.flatten_mapping(node)  # merge keys (<<) as the safe loader does
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            loader.problems.append(
                f"{loader.file}:{key_node.start_mark.line + 1}: (yaml): expected a plain key, found a complex key"
            )
            continue
        data[key] = loader.construct_object(value_node, deep=True)
        data.lines[key] = key_node.start_mark.line + 1


def _construct_list(loader: _Loader, node: yaml.SequenceNode) -> Any:
    data = LineList()
    data.line = node.start_mark.line + 1
    yield data
    for item in node.value:
        data.append(loader.construct_object(item, deep=True))
        data.lines.append(item.start_mark.line + 1)


for _loader in (_Loader, _CLoader):
    _loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
    _loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


def _name_paths(node: yaml.Node, path: str, paths: dict[int, str]) -> None:
    """Record the dotted path of every mapping node, for duplicate-key messages."""
    stack = [(node, path)]
    while stack:
        current, where = stack.pop()
        if id(current) in paths:
            continue  # an alias seen before
        if isinstance(current, yaml.MappingNode):
            paths[id(current)] = where
            for key_node, value_node in current.value:
                key = _scalar_key(key_node)
                stack.append((value_node, f"{where}.{key}" if where else str(key)))
        elif isinstance(current, yaml.SequenceNode):
            paths[id(current)] = where
            stack.extend((item, f"{where}[{i}]") for i, item in enumerate(current.value))


def load_yaml(text: str, file: str) -> tuple[Any, list[str]]:
    """Parse ``text``; return the data and the problems (syntax errors, duplicate keys)."""
    if _LIBYAML:
        try:
            return _load(_CLoader(text, file))
        except yaml.YAMLError:
            pass  # libyaml words its errors differently: let the pure-Python parser say it
    try:
        return _load(_Loader(text, file))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        column = f" at column {mark.column + 1}" if mark else ""
        what = exc.problem or exc.context or "invalid syntax"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        return None, [
            f"{file}:{line}: (yaml): expected valid YAML, found a syntax error{column}: {what}{context}"
        ]
    except yaml.YAMLError as exc:  # e.g. a reader error on control characters
        return None, [f"{file}:0: (yaml): expected valid YAML, found {exc}"]


def _load(loader: _Loader | _CLoader) -> tuple[Any, list[str]]:
    try:
        root = loader.get_single_node()
        if root is None:
            return None, []
        _name_paths(root, "", loader.paths)
        data = loader.construct_document(root)
    finally:
        loader.dispose()
    return data, loader.problems
