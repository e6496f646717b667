"""One manifest entry -> one spec: actions, sequences, triggers and rules.

Each ``parse_*`` gets the entry's raw name and mapping with its line and YAML
path, reports every problem to ``Problems`` and returns a spec (or None when
the entry is too broken to describe). Cross-entity checks live in ``manifest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.manifest.fields import (
    WHISK_AUTH,
    parse_annotations,
    parse_exclude,
    parse_include,
    parse_inputs,
    parse_limits,
)
from deploy.manifest.schema import (
    ACTION_KEYS,
    RULE_KEYS,
    RUNTIMES,
    SEQUENCE_KEYS,
    TRIGGER_KEYS,
    Problems,
    article,
    show,
    valid_whisk_auth,
    web_annotations,
    web_flag,
)
from deploy.manifest.yamlsource import LineDict
from deploy.models import ActionSpec, Limits, RuleSpec, SequenceSpec, TriggerSpec, Where
from whiskfacts.names import is_entity_name

WEB_VALUES = "true, yes, raw, false or no"


def _entry(
    problems: Problems, raw_name: Any, raw: Any, line: int, path: str, what: str, allowed: set[str]
) -> tuple[str | None, LineDict | None]:
    name = problems.name(raw_name, line, path, what)
    data = problems.mapping(raw, line, path, f"a {what} mapping")
    if data is not None:
        problems.keys(data, path, allowed, f"{what} key")
    return name, data


def _legacy(problems: Problems, data: LineDict, path: str, old: str, new: str) -> str:
    """The key to read: ``new``, or the legacy ``old`` with a warning."""
    if old not in data:
        return new
    if new in data:
        problems.warn(
            data.line_of(old), f"{path}.{old}", f"legacy key ignored: {new} is also given and wins"
        )
        return new
    problems.warn(data.line_of(old), f"{path}.{old}", f"legacy key: write {new} instead")
    return old


def _web(problems: Problems, data: LineDict, path: str, key: str) -> str | None:
    if key not in data:
        return None
    flag = web_flag(data[key])
    if flag is None:
        problems.add(data.line_of(key), f"{path}.{key}", WEB_VALUES, show(data[key]))
    return flag


def described_annotations(problems: Problems, data: LineDict, path: str) -> dict[str, Any]:
    """The entry's ``annotations``, plus its ``description`` as the annotation of that name:
    OpenWhisk has no description field, and UIs read the annotation."""
    annotations = parse_annotations(
        problems, data.get("annotations"), data.line_of("annotations"), f"{path}.annotations"
    )
    if isinstance(data.get("description"), str):
        annotations.setdefault("description", data["description"])
    return annotations


def parse_action(
    problems: Problems,
    base: Path,
    package: str | None,
    raw_name: Any,
    raw: Any,
    line: int,
    path: str,
) -> ActionSpec | None:
    name, data = _entry(problems, raw_name, raw, line, path, "action", ACTION_KEYS)
    if data is None:
        return None
    source = _source(problems, base, data, line, path)
    annotations = _action_annotations(problems, data, path)
    limits = (
        parse_limits(problems, data["limits"], data.line_of("limits"), f"{path}.limits")
        if "limits" in data
        else Limits()
    )
    inputs = parse_inputs(problems, data.get("inputs"), data.line_of("inputs"), f"{path}.inputs")
    include, exclude = _packing(problems, base, data, path)
    if name is None:
        return None
    return ActionSpec(
        package=package,
        name=name,
        runtime=source.runtime or "",
        function=source.function,
        code=source.code,
        main=source.main,
        annotations=annotations,
        inputs=inputs,
        limits=limits,
        include=include,
        exclude=exclude,
        where=Where(problems.file, line, path),
        inferred_runtime=source.inferred,
    )


@dataclass(frozen=True)
class _Source:
    """Where an action's code comes from, as far as the manifest could say."""

    runtime: str | None
    function: Path | None  # resolved against the manifest's folder
    code: str | None
    main: str | None
    inferred: bool = False  # runtime taken from the file's extension


def _source(problems: Problems, base: Path, data: LineDict, line: int, path: str) -> _Source:
    """``function`` (a file or folder) or inline ``code``, exactly one, and its runtime."""
    function_key = _legacy(problems, data, path, "location", "function")
    function = problems.string(data, function_key, path)
    code = problems.string(data, "code", path, expand=False)
    runtime = problems.string(data, "runtime", path, expand=False)
    main = problems.string(data, "main", path, expand=False)
    resolved: Path | None = None
    if code is not None and function is not None:
        problems.add(
            data.line_of("code"),
            f"{path}.code",
            "either function or code",
            "both",
            "code is inline source; function names a file or folder",
        )
    elif code is not None:
        if runtime is None:
            problems.add(
                data.line_of("code"),
                f"{path}.runtime",
                "a runtime with inline code",
                "none",
                "add runtime: python:3.11",
            )
    elif function is not None:
        resolved = base / function
        written = runtime
        runtime = _function_runtime(
            problems, base, data, function_key, function, resolved, runtime, path
        )
        return _Source(runtime, resolved, code, main, written is None and runtime is not None)
    elif empty := next((k for k in (function_key, "code") if k in data and data[k] is None), ""):
        # `function:` with nothing after it: problems.string treats null as absent, so say it here
        what = "a file or folder" if empty == function_key else "inline source"
        problems.add(data.line_of(empty), f"{path}.{empty}", what, show(None))
    elif function_key in data or "code" in data or "docker" in data or "native" in data:
        pass  # already reported: a wrong type, or an unsupported kind of action
    else:
        problems.add(line, path, "function (a file or folder) or code (inline source)", "neither")
    return _Source(runtime, resolved, code, main)


def _function_runtime(
    problems: Problems,
    base: Path,
    data: LineDict,
    function_key: str,
    function: str,
    resolved: Path,
    runtime: str | None,
    path: str,
) -> str | None:
    """Check that ``function`` names a local file or folder; infer the runtime if unset."""
    fline, fpath = data.line_of(function_key), f"{path}.{function_key}"
    if function.startswith(("http://", "https://")):
        problems.add(
            fline,
            fpath,
            "a local file or folder",
            f"URL {show(function)}",
            "download it next to the manifest",
        )
    elif not resolved.exists():
        problems.add(
            fline,
            fpath,
            "an existing file or folder",
            f"{show(function)}, which does not exist",
            f"paths are relative to the manifest's folder, {base}",
        )
    elif runtime is None:
        runtime = None if resolved.is_dir() else RUNTIMES.get(resolved.suffix.lower())
        if runtime is None:
            kind = (
                "a folder" if resolved.is_dir() else f"a {resolved.suffix or 'extensionless'} file"
            )
            problems.add(
                fline,
                f"{path}.runtime",
                f"a runtime for {kind}",
                "none",
                "a folder or .zip is sent as a zip, whose kind must be named: add runtime:"
                " nodejs:default, python:3.11 or the kind the code is for"
                if resolved.is_dir() or resolved.suffix.lower() == ".zip"
                else "add the runtime the file is for, e.g. runtime: nodejs:default",
            )
    return runtime


def _action_annotations(problems: Problems, data: LineDict, path: str) -> dict[str, Any]:
    """The manifest's annotations plus those its web, raw-http and require-whisk-auth keys mean."""
    annotations = described_annotations(problems, data, path)
    flag = _raw_http(
        problems,
        data,
        path,
        _web(problems, data, path, _legacy(problems, data, path, "web-export", "web")),
        annotations,
    )
    if flag is not None:
        annotations.update(web_annotations(flag))  # overwrites raw-http/final, as wskdeploy does
    if "require-whisk-auth" in data:
        aline, apath = data.line_of("require-whisk-auth"), f"{path}.require-whisk-auth"
        value = problems.expand(data["require-whisk-auth"], aline, apath)
        if valid_whisk_auth(value):
            annotations["require-whisk-auth"] = value
        else:
            problems.add(aline, apath, WHISK_AUTH, show(value))
    return annotations


def _raw_http(
    problems: Problems, data: LineDict, path: str, flag: str | None, annotations: dict[str, Any]
) -> str | None:
    """``raw-http: true`` is ``web: raw``; it must agree with ``web`` when both are given."""
    if "raw-http" not in data:
        return flag
    raw_http = data["raw-http"]
    rline, rpath = data.line_of("raw-http"), f"{path}.raw-http"
    if not isinstance(raw_http, bool):
        problems.add(rline, rpath, "true or false", show(raw_http))
    elif raw_http and flag in (None, "false"):
        problems.add(
            rline,
            rpath,
            "a web action (raw-http only applies to web actions)",
            "raw-http: true without web",
            "write web: raw",
        )
    elif raw_http:
        return "raw"
    elif flag == "raw":
        problems.add(rline, rpath, "raw-http to agree with web: raw", "raw-http: false")
    else:
        annotations["raw-http"] = False
    return flag


def _packing(
    problems: Problems, base: Path, data: LineDict, path: str
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """``include`` pairs (sources resolved like ``function``) and ``exclude`` globs."""
    include = (
        parse_include(problems, data["include"], data.line_of("include"), f"{path}.include")
        if "include" in data
        else ()
    )
    exclude = (
        parse_exclude(problems, data["exclude"], data.line_of("exclude"), f"{path}.exclude")
        if "exclude" in data
        else ()
    )
    # Both resolve against the manifest's folder, as wskdeploy's utils/zip.go has them.
    return (
        tuple((str(base / source), dest) for source, dest in include),
        tuple(str(base / pattern) for pattern in exclude),
    )


def _reference_ok(name: str) -> bool:
    """``x``, ``pkg/x`` or ``/ns/pkg/x``: each part a valid entity name."""
    parts = name[1:].split("/") if name.startswith("/") else name.split("/")
    return 0 < len(parts) <= 3 and all(is_entity_name(part) for part in parts)


def resolve(package: str | None, name: str) -> str:
    """wskdeploy resolves a bare name against the declaring package (none for default)."""
    return f"{package}/{name}" if package and "/" not in name else name


def parse_sequence(
    problems: Problems, package: str | None, raw_name: Any, raw: Any, line: int, path: str
) -> SequenceSpec | None:
    name, data = _entry(problems, raw_name, raw, line, path, "sequence", SEQUENCE_KEYS)
    if data is None:
        return None
    aline, apath = data.line_of("actions"), f"{path}.actions"
    listed = problems.expand(data.get("actions"), aline, apath)
    if isinstance(listed, str):
        listed = listed.split(",")
    components: list[str] = []
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        problems.add(aline, apath, "a comma-separated string of action names", show(listed))
    elif not [item for item in listed if item.strip()]:
        problems.add(
            aline,
            apath,
            "at least one action name",
            "an empty list",
            'write actions: "first, second"',
        )
    else:
        for item in (item.strip() for item in listed):
            if not _reference_ok(item):
                problems.add(aline, apath, "action names such as a, pkg/a or /ns/pkg/a", show(item))
            else:
                components.append(resolve(package, item))
    annotations = described_annotations(problems, data, path)
    flag = _web(problems, data, path, "web")
    if flag is not None:
        annotations.update(web_annotations(flag))
    inputs = parse_inputs(problems, data.get("inputs"), data.line_of("inputs"), f"{path}.inputs")
    if name is None:
        return None
    return SequenceSpec(
        package=package,
        name=name,
        components=tuple(components),
        annotations=annotations,
        inputs=inputs,
        where=Where(problems.file, line, path),
    )


def parse_trigger(
    problems: Problems, raw_name: Any, raw: Any, line: int, path: str
) -> TriggerSpec | None:
    name, data = _entry(problems, raw_name, raw, line, path, "trigger", TRIGGER_KEYS)
    if data is None:
        return None
    feed = problems.string(data, _legacy(problems, data, path, "source", "feed"), path)
    annotations = described_annotations(problems, data, path)
    inputs = parse_inputs(problems, data.get("inputs"), data.line_of("inputs"), f"{path}.inputs")
    if name is None:
        return None
    return TriggerSpec(
        name=name,
        inputs=inputs,
        annotations=annotations,
        feed=feed,
        where=Where(problems.file, line, path),
    )


def parse_rule(
    problems: Problems, package: str | None, raw_name: Any, raw: Any, line: int, path: str
) -> RuleSpec | None:
    name, data = _entry(problems, raw_name, raw, line, path, "rule", RULE_KEYS)
    if data is None:
        return None
    ends: dict[str, str] = {}
    for key in ("trigger", "action"):
        before = len(problems.errors)
        value = problems.string(data, key, path)
        if len(problems.errors) > before:
            continue  # a wrong type or an unset variable, already reported
        if value is None:
            problems.add(
                line, f"{path}.{key}", f"the {key} the rule connects", "none", f"add {key}: <name>"
            )
        elif not _reference_ok(value.strip()):
            problems.add(
                data.line_of(key),
                f"{path}.{key}",
                f"{article(key)} {key} name such as x, pkg/x or /ns/pkg/x",
                show(value),
            )
        else:
            ends[key] = value.strip()
    annotations = described_annotations(problems, data, path)
    if name is None or len(ends) != 2:
        return None
    return RuleSpec(
        name=name,
        trigger=ends["trigger"],
        action=resolve(package, ends["action"]),
        where=Where(problems.file, line, path),
        annotations=annotations,
    )
