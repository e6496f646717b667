"""The value-level parts shared by entities: inputs, annotations, limits, include/exclude.

Each ``parse_*`` takes the raw YAML value with its line and path, reports every
problem to ``Problems`` and returns a clean value (plain dicts, never
``LineDict``), so a bad field never stops the rest of the manifest being checked.
"""

from __future__ import annotations

import copy
import posixpath
from collections.abc import Iterator
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from deploy.manifest.interpolation import needs_interpolation
from deploy.manifest.schema import (
    LIMIT_KEYS,
    PARAM_KEYS,
    TYPES,
    ZERO,
    Problems,
    article,
    inferred_type,
    show,
    typed_value,
    valid_whisk_auth,
)
from deploy.manifest.yamlsource import LineDict, LineList
from deploy.models import Limits

_TYPE_NAMES = "string, integer, float, boolean, json or slice"
# limits key -> (Limits field, what a valid value is); aliases are aio's spellings.
_LIMITS = {
    "timeout": ("timeout", "a positive integer (milliseconds)"),
    "memorySize": ("memory", "a positive integer (MB)"),
    "logSize": ("logs", "a non-negative integer (MB)"),
    "concurrency": ("concurrency", "a positive integer"),
}
_ALIASES = {
    "memory": ("memorySize", "aio's spelling of memorySize, accepted"),
}


def _named_values(
    problems: Problems, raw: Any, line: int, path: str, what: str
) -> Iterator[tuple[str, Any, int, str]]:
    """(name, value, its line, its path) for each entry of a mapping of ``what`` names to
    values; a mapping of anything else, or a name that is not a string, is reported."""
    data = problems.mapping(raw, line, path, f"a mapping of {what} names to values")
    for name, value in (data or {}).items():
        vline, vpath = data.line_of(name), f"{path}.{name}"
        if isinstance(name, str):
            yield name, value, vline, vpath
        else:
            problems.add(vline, vpath, f"{article(what)} {what} name (a string)", show(name))


def parse_inputs(problems: Problems, raw: Any, line: int, path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value, vline, vpath in _named_values(problems, raw, line, path, "input"):
        if isinstance(value, LineDict) and value.keys() & {"type", "value", "default"}:
            parsed = _multi_line(problems, value, vline, vpath)
            if parsed is not _BAD:
                result[name] = parsed
        elif isinstance(value, str) and value in TYPES:
            # wskdeploy's quirk: `name: string` declares the type and deploys its zero value.
            result[name] = copy.deepcopy(ZERO[TYPES[value]])
        elif value is None:
            # `name:` with nothing after it: a string input with no value, so "" (wskdeploy's
            # parsers/parameters.go ResolveParameter gives the string type's zero value).
            result[name] = ""
        else:
            result[name] = problems.expand(value, vline, vpath)
    return result


_BAD = object()


def _multi_line(problems: Problems, spec: LineDict, line: int, path: str) -> Any:
    problems.keys(spec, path, PARAM_KEYS, "input key")
    declared = spec.get("type")
    kind = TYPES.get(declared) if isinstance(declared, str) else None
    if declared is not None and kind is None:
        problems.add(
            spec.line_of("type"), f"{path}.type", f"a type ({_TYPE_NAMES})", show(declared)
        )
        return _BAD
    required = spec.get("required", False)
    if not isinstance(required, bool):
        problems.add(spec.line_of("required"), f"{path}.required", "true or false", show(required))
        return _BAD
    key = (
        "value"
        if spec.get("value") is not None
        else "default"
        if spec.get("default") is not None
        else None
    )
    if key is None:
        if required:
            problems.add(line, path, "a value or default for a required input", "neither")
            return _BAD
        return copy.deepcopy(ZERO[kind]) if kind else ""
    raw = spec[key]
    vline, vpath = spec.line_of(key), f"{path}.{key}"
    before = len(problems.errors)
    value = problems.expand(raw, vline, vpath)
    if kind is None or len(problems.errors) > before:
        return value
    if isinstance(raw, str) and needs_interpolation(raw) and isinstance(value, str):
        value = _from_text(kind, value)  # a $VAR is text; let it fill a typed input
    ok, checked = typed_value(kind, value)
    if ok:
        return checked
    if kind == "json":  # wskdeploy refuses these too (parsers/parameters.go resolveJSONParameter)
        problems.add(
            vline, vpath, f"a value of type {kind}", f"{show(value)} ({inferred_type(value)})"
        )
        return _BAD
    # wskdeploy sends the value as written whatever the declared type (parsers/parameters.go
    # checks only json): so do we, but say so, since the action may not expect it.
    problems.warn(
        vline,
        vpath,
        f"declared type {kind}, but the value is {show(value)} ({inferred_type(value)});"
        " sent as written, as wskdeploy does",
    )
    return value


def _from_text(kind: str, text: str) -> Any:
    try:
        if kind == "integer":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        return text
    if kind == "boolean" and text.lower() in ("true", "false"):
        return text.lower() == "true"
    return text


def parse_annotations(problems: Problems, raw: Any, line: int, path: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value, kline, kpath in _named_values(problems, raw, line, path, "annotation"):
        value = problems.expand(value, kline, kpath)
        if key == "require-whisk-auth" and not valid_whisk_auth(value):
            problems.add(kline, kpath, WHISK_AUTH, show(value))
            continue
        if key in AIO_ONLY_ANNOTATIONS and value not in (False, None):
            # aio rewrites such actions (e.g. behind Adobe's IMS validator sequence);
            # written as a bare annotation it would enforce nothing, silently.
            problems.add(
                kline,
                kpath,
                "an annotation this tool can honour",
                f"aio-only {key!r}",
                AIO_ONLY_ANNOTATIONS[key],
            )
            continue
        result[key] = value
    return result


AIO_ONLY_ANNOTATIONS = {
    "require-adobe-auth": "deploy it with aio, or protect the action with require-whisk-auth",
    "include-ims-credentials": "deploy it with aio, or pass credentials as inputs",
}
WHISK_AUTH = "a non-empty string, a positive integer up to 2^53-1, or true/false"


def parse_limits(problems: Problems, raw: Any, line: int, path: str) -> Limits:
    data = problems.mapping(
        raw, line, path, "a mapping of limits (timeout, memorySize, logSize, concurrency)"
    )
    if data is None:
        return Limits()
    problems.keys(data, path, LIMIT_KEYS, "limits key")
    values: dict[str, int] = {}
    for key in sorted(data, key=data.line_of):
        canonical = key
        if key in _ALIASES:
            canonical, note = _ALIASES[key]
            if canonical in data:
                problems.warn(
                    data.line_of(key),
                    f"{path}.{key}",
                    f"ignored: {canonical} is also given and wins",
                )
                continue
            problems.warn(data.line_of(key), f"{path}.{key}", note)
        if canonical not in _LIMITS:
            continue
        target, what = _LIMITS[canonical]
        value = data[key]
        floor = 0 if canonical == "logSize" else 1  # OpenWhisk's log limit range starts at 0 MB
        if isinstance(value, bool) or not isinstance(value, int) or value < floor:
            problems.add(
                data.line_of(key),
                f"{path}.{key}",
                what,
                show(value),
                "limits are plain integers; the server's ranges are checked at preflight",
            )
            continue
        values[target] = value
    return Limits(**values)


def _relative(
    problems: Problems,
    value: Any,
    line: int,
    path: str,
    what: str,
    inside: str = "the manifest's folder",
) -> str | None:
    """A relative path or glob without ``..``: the zip must only take what the project holds."""
    if not isinstance(value, str) or not value.strip():
        problems.add(line, path, what, show(value))
        return None
    value = problems.expand(value, line, path)
    if not isinstance(value, str):
        return None
    if (
        PurePosixPath(value).is_absolute()
        or PureWindowsPath(value).is_absolute()
        or value.startswith("\\")
    ):
        problems.add(line, path, f"{what} relative to {inside}", f"absolute path {show(value)}")
        return None
    if ".." in PurePosixPath(value.replace("\\", "/")).parts:
        problems.add(line, path, f"{what} inside {inside}", f"{show(value)} (leaves it with ..)")
        return None
    return value


def parse_include(
    problems: Problems, raw: Any, line: int, path: str
) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, LineList):
        problems.add(line, path, "a list of [source, destination] pairs", show(raw))
        return ()
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(raw):
        iline, ipath = raw.line_of(index), f"{path}[{index}]"
        if not isinstance(item, list):
            problems.add(iline, ipath, "a [source, destination] pair", show(item))
            continue
        if len(item) not in (1, 2):
            # wskdeploy skips such entries (utils/zip.go buildIncludeMetadata): so do we, said.
            problems.warn(
                iline,
                ipath,
                f"ignored: an include entry is [source] or [source, destination],"
                f" this one has {len(item)} items (wskdeploy skips it too)",
            )
            continue
        src = _relative(problems, item[0], iline, ipath, "a source path or glob")
        # One item: the same relative path inside the zip, cleaned (wskdeploy joins it).
        dest = (
            _relative(problems, item[-1], iline, ipath, "a destination path", "the zip")
            if len(item) == 2
            else (posixpath.normpath(src.replace("\\", "/")) if src is not None else None)
        )
        if src is not None and dest is not None:
            pairs.append((src, dest))
    return tuple(pairs)


def parse_exclude(problems: Problems, raw: Any, line: int, path: str) -> tuple[str, ...]:
    if not isinstance(raw, LineList):
        problems.add(line, path, "a list of globs", show(raw))
        return ()
    globs = [
        _relative(problems, item, raw.line_of(i), f"{path}[{i}]", "a glob", "the manifest's folder")
        for i, item in enumerate(raw)
    ]
    return tuple(g for g in globs if g is not None)
