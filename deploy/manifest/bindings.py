"""A package's ``dependencies``: each one a package binding, as wskdeploy deploys them.

wskdeploy (parsers/manifest_parser.go ComposeDependencies, deployers/servicedeployer.go
DeployDependencies) turns ``dependencies: {label: {location: /ns/pkg, inputs, annotations}}``
into a binding named ``label`` in the target namespace (beside the packages, not inside
the declaring one) to the package at ``location``, with the dependency's inputs as its
parameters. A GitHub location makes wskdeploy clone that repository and deploy its
manifest first; this tool clones nothing, so such an entry is refused by name.
"""

from __future__ import annotations

from typing import Any

from deploy.manifest.fields import parse_annotations, parse_inputs
from deploy.manifest.schema import Problems, show
from deploy.manifest.yamlsource import LineDict
from deploy.models import PackageSpec, Where
from whiskfacts.names import is_entity_name

DEPENDENCY_KEYS = {"location", "version", "inputs", "annotations"}


def parse_dependencies(problems: Problems, data: LineDict, path: str) -> list[PackageSpec]:
    """One binding ``PackageSpec`` per entry of ``data['dependencies']``."""
    dpath = f"{path}.dependencies"
    entries = problems.mapping(
        data.get("dependencies"),
        data.line_of("dependencies"),
        dpath,
        "a mapping of dependency names to {location: /namespace/package}",
    )
    found: list[PackageSpec] = []
    for raw_label, raw in (entries or {}).items():
        line, epath = entries.line_of(raw_label), f"{dpath}.{raw_label}"
        spec = _dependency(problems, raw_label, raw, line, epath)
        if spec is not None:
            found.append(spec)
    return found


def _dependency(
    problems: Problems, raw_label: Any, raw: Any, line: int, path: str
) -> PackageSpec | None:
    label = problems.name(raw_label, line, path, "binding")
    entry = problems.mapping(raw, line, path, "a dependency mapping with location:")
    if entry is None:
        return None
    problems.keys(entry, path, DEPENDENCY_KEYS, "dependency key")
    location = problems.string(entry, "location", path)
    inputs = parse_inputs(problems, entry.get("inputs"), entry.line_of("inputs"), f"{path}.inputs")
    annotations = parse_annotations(
        problems, entry.get("annotations"), entry.line_of("annotations"), f"{path}.annotations"
    )
    lline, lpath = entry.line_of("location"), f"{path}.location"
    if location is None:
        if "location" not in entry:
            problems.add(line, lpath, "the package to bind, as /namespace/package", "none")
        return None
    target = _bound_package(problems, location.strip(), lline, lpath, str(raw_label))
    if label is None or target is None:
        return None
    return PackageSpec(
        name=label,
        inputs=inputs,
        annotations=annotations,
        binding=target,
        where=Where(problems.file, line, path),
    )


def _bound_package(
    problems: Problems, location: str, line: int, path: str, label: str
) -> str | None:
    """``/ns/pkg`` for a binding location; every other kind of location is reported."""
    if location.startswith("/"):
        parts = location[1:].split("/")
        if len(parts) == 2 and all(is_entity_name(part) or part == "_" for part in parts):
            return location
        problems.add(
            line,
            path,
            "a package to bind, as /namespace/package (e.g. /whisk.system/utils)",
            show(location),
        )
        return None
    host = location.split("://", 1)[-1].split("/", 1)[0]
    if "github" in host:
        problems.add(
            line,
            path,
            "a package to bind, as /namespace/package",
            f"the GitHub location {show(location)} of dependency {label!r}",
            "this tool does not clone repositories: deploy that project with its own manifest,"
            " publish its package, and bind it here with location: /<namespace>/<package>",
        )
        return None
    problems.add(
        line,
        path,
        "a package to bind, as /namespace/package (wskdeploy also takes GitHub locations)",
        show(location),
    )
    return None
