"""Reads a wskdeploy-format manifest into inert ``models``: ``load_manifest(path, environ)``.

The pipeline is: bytes (digest) -> Jinja2 (``{{ env.X }}``) -> YAML with lines ->
project/packages walk (this module) -> one spec per entry (``entities``).
Every problem is collected with its file, line and YAML path and raised as one
``ManifestError``; legacy keys become ``Manifest.warnings``. No network, no
zipping, and ``os.environ`` is never read: the caller passes ``environ``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploy.errors import ManifestError
from deploy.manifest.apis import check_targets, parse_apis
from deploy.manifest.bindings import parse_dependencies
from deploy.manifest.entities import (
    described_annotations,
    parse_action,
    parse_rule,
    parse_sequence,
    parse_trigger,
)
from deploy.manifest.fields import parse_inputs
from deploy.manifest.interpolation import render_template
from deploy.manifest.schema import PACKAGE_KEYS, PROJECT_KEYS, TOP_KEYS, Problems, show
from deploy.manifest.yamlsource import LineDict, load_yaml
from deploy.models import (
    ActionSpec,
    ApiSpec,
    Manifest,
    PackageSpec,
    RuleSpec,
    SequenceSpec,
    TriggerSpec,
    Where,
)

MANIFEST_NAMES = ("manifest.yaml", "manifest.yml")
_MANIFEST_FILE = re.compile(r"manifest(\.[\w-]+)?\.ya?ml")
_LINE = re.compile(r":(\d+):")


def find_manifest(path: Path) -> Path:
    """``path`` itself if it is a file; in a folder ``manifest.yaml``, else ``manifest.yml``."""
    if path.is_dir():
        for name in MANIFEST_NAMES:
            if (path / name).is_file():
                return path / name
        raise ManifestError(
            [f"{path}: expected {' or '.join(MANIFEST_NAMES)} in this folder, found neither"]
        )
    return path


def manifests_beside(path: Path) -> list[Path]:
    """The other manifests in ``path``'s folder: ``manifest.yaml``/``.yml`` and variants
    named ``manifest.<name>.yaml`` (such as ``manifest.nodejs.yaml``), sorted."""
    folder = path.parent
    try:
        names = sorted(
            entry.name
            for entry in folder.iterdir()
            if _MANIFEST_FILE.fullmatch(entry.name) and entry.is_file()
        )
    except OSError:
        return []
    return [folder / name for name in names if name != path.name]


def load_manifest(
    path: Path, environ: Mapping[str, str], *, project_name: str | None = None
) -> Manifest:
    """Read, template, parse and validate ``path``; raise ManifestError with every problem.

    ``project_name`` is the fallback for manifests without ``project.name``
    (wskdeploy's ``--projectname``); the managed-project annotation needs one.
    """
    file = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(
            [f"{file}:0: (file): expected a readable manifest, found {exc.strerror or exc}"]
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(
            [
                f"{file}:0: (file): expected UTF-8 text, found byte {raw[exc.start]:#04x} at offset {exc.start}"
            ]
        ) from None
    rendered, template_errors = render_template(text, environ, file)
    if template_errors:
        raise ManifestError(_in_file_order(file, template_errors))
    data, yaml_errors = load_yaml(rendered, file)
    problems = Problems(file=file, environ=environ, errors=list(yaml_errors))
    if data is None and yaml_errors:
        raise ManifestError(yaml_errors)
    walker = _Walker(problems, path.parent)
    name, namespace = walker.top(data, project_name)
    walker.cross_check()
    if problems.errors:
        raise ManifestError(_in_file_order(file, problems.errors))
    return Manifest(
        project=name or "",
        file=path,
        digest=hashlib.sha256(raw).hexdigest(),
        packages=tuple(walker.packages),
        actions=tuple(walker.actions),
        sequences=tuple(walker.sequences),
        triggers=tuple(walker.triggers),
        rules=tuple(walker.rules),
        apis=tuple(walker.apis),
        warnings=tuple(_in_file_order(file, problems.warnings)),
        namespace=namespace,
        named_after_folder=walker.named_after_folder,
        packages_under_project=walker.packages_under_project,
    )


def _in_file_order(file: str, lines: list[str]) -> list[str]:
    def line_of(text: str) -> int:
        found = _LINE.match(text, len(file))
        return int(found.group(1)) if found else 0

    return sorted(lines, key=line_of)  # stable: same-line problems keep their order


class _Walker:
    """Walks project -> packages -> entries, collecting specs into lists."""

    def __init__(self, problems: Problems, base: Path) -> None:
        self.problems = problems
        self.base = base
        self.packages: list[PackageSpec] = []
        self.actions: list[ActionSpec] = []
        self.sequences: list[SequenceSpec] = []
        self.triggers: list[TriggerSpec] = []
        self.rules: list[RuleSpec] = []
        self.apis: list[ApiSpec] = []
        self.bindings: list[PackageSpec] = []
        self.named_after_folder = False
        self.packages_under_project = False

    def top(self, data: Any, fallback_name: str | None) -> tuple[str | None, str | None]:
        """The whole document: its project (name, namespace) and every package in it."""
        problems = self.problems
        if not isinstance(data, LineDict):
            problems.add(
                1,
                "(top)",
                "a mapping with project: or packages:",
                "an empty file" if data is None else show(data),
            )
            return None, None
        problems.keys(data, "", TOP_KEYS, "top-level key")
        project_key = self._project_key(data)
        project = problems.mapping(
            data.get(project_key),
            data.line_of(project_key),
            project_key,
            "a project mapping (name, packages, ...)",
        )
        # An absent project reads as an empty mapping; only a written one has settings.
        declared = project if project is not None and project_key in data else None
        name = namespace = None
        if declared is not None:
            name, namespace = self._project_settings(declared, project_key)
        seen: dict[str, str] = {}
        for container, prefix, legacy in self._package_sources(data, declared, project_key):
            self.package_map(container, prefix, legacy, seen)
        return self._project_name(name, declared, project_key, fallback_name), namespace

    def _project_key(self, data: LineDict) -> str:
        """``project``, or wskdeploy's legacy ``application`` (with a warning either way)."""
        if "application" not in data:
            return "project"
        project_key = "application" if "project" not in data else "project"
        self.problems.warn(
            data.line_of("application"),
            "application",
            "legacy key: write project instead"
            if project_key == "application"
            else "legacy key ignored: project is also given and wins",
        )
        return project_key

    def _project_settings(
        self, project: LineDict, project_key: str
    ) -> tuple[str | None, str | None]:
        """Check the project's keys and read its inputs (for $VARs), name and namespace."""
        problems = self.problems
        # project.namespace is handed to the CLI (Manifest.namespace), unlike a package's.
        problems.keys(
            project, project_key, PROJECT_KEYS, "project key", used=frozenset({"namespace"})
        )
        problems.inputs = parse_inputs(
            problems, project.get("inputs"), project.line_of("inputs"), f"{project_key}.inputs"
        )
        name = problems.string(project, "name", project_key)
        namespace = problems.string(project, "namespace", project_key)
        return name, namespace

    def _package_sources(
        self, data: LineDict, project: LineDict | None, project_key: str
    ) -> list[tuple[LineDict, str, bool]]:
        """(container, its path, is legacy ``package``) for each place packages are declared."""
        problems = self.problems
        sources: list[tuple[LineDict, str, bool]] = []
        if project is not None:
            if "packages" in data and "packages" in project:
                problems.warn(
                    project.line_of("packages"),
                    f"{project_key}.packages",
                    "ignored: top-level packages is also given and wins (as in wskdeploy)",
                )
            elif "packages" in project:
                sources.append((project, project_key, False))
                self.packages_under_project = True
            if "package" in project:
                sources.append((project, project_key, True))
        if "packages" in data:
            sources.append((data, "", False))
        if "package" in data:
            sources.append((data, "", True))
        if not sources:
            problems.add(1, "packages", "a packages mapping (at the top or under project)", "none")
        return sources

    def _project_name(
        self,
        name: str | None,
        project: LineDict | None,
        project_key: str,
        fallback_name: str | None,
    ) -> str | None:
        """project.name, else --projectname, else the folder's name (said in a warning);
        both given, they must agree."""
        problems = self.problems
        if name is not None and project is not None and not name.strip():
            problems.add(
                project.line_of("name"), f"{project_key}.name", "a project name", show(name)
            )
        if name is None and not (project is not None and "name" in project):
            if fallback_name is not None:
                return fallback_name
            # wskdeploy deploys such manifests unmanaged, and its default mode never
            # deletes. We still mark what we write, with the folder's name; but any
            # other manifest in that folder gets the same name, so plan deletes
            # nothing of this project (Manifest.named_after_folder).
            name = self.base.resolve().name or "default"
            self.named_after_folder = True
            problems.warn(
                project.line if project is not None else 1,
                f"{project_key}.name",
                f"not set; the project is named {name!r} after the manifest's folder "
                "(set project.name or --projectname to keep it stable when the folder moves)",
            )
        elif name is not None and fallback_name is not None and name != fallback_name:
            problems.add(
                project.line_of("name") if project is not None else 1,
                f"{project_key}.name",
                f"the project name given on the command line ({fallback_name!r})",
                show(name),
            )
        return name

    def package_map(
        self, container: LineDict, prefix: str, legacy: bool, seen: dict[str, str]
    ) -> None:
        problems = self.problems
        key = "package" if legacy else "packages"
        path = f"{prefix}.{key}" if prefix else key
        line = container.line_of(key)
        if legacy:
            problems.warn(line, path, "legacy key: write packages: {<name>: ...} instead")
            data = problems.mapping(container[key], line, path, "a package mapping with name:")
            if data is None:
                return
            raw_name = data.get("name")
            if raw_name is None:
                problems.add(line, f"{path}.name", "the package's name", "none")
                return
            self.package(raw_name, data, line, path, seen, legacy_named=True)
            return
        packages = problems.mapping(
            container[key], line, path, "a mapping of package names to packages"
        )
        for raw_name, raw in (packages or {}).items():
            self.package(raw_name, raw, packages.line_of(raw_name), f"{path}.{raw_name}", seen)

    def package(
        self,
        raw_name: Any,
        raw: Any,
        line: int,
        path: str,
        seen: dict[str, str],
        allowed: set[str] = PACKAGE_KEYS | {"name"},
        legacy_named: bool = False,
    ) -> None:
        problems = self.problems
        default = raw_name == "default"
        name = "default" if default else problems.name(raw_name, line, path, "package")
        data = problems.mapping(raw, line, path, "a package mapping (actions, triggers, ...)")
        if data is None:
            return
        problems.keys(data, path, allowed, "package key")
        if name is not None and name in seen:
            problems.add(line, path, "each package once", f"{name!r} again (first at {seen[name]})")
        elif name is not None:
            seen[name] = path
        package = None if default else name
        if "name" in data and not legacy_named:
            problems.warn(
                data.line_of("name"), f"{path}.name", "ignored: a package is named by its key"
            )
        if default:
            # wskdeploy creates no package for default (deployers/servicedeployer.go
            # DeployPackages), so these settings go nowhere: said, not refused.
            for key in ("public", "inputs", "annotations", "description"):
                if key in data:
                    problems.warn(
                        data.line_of(key),
                        f"{path}.{key}",
                        "ignored: default means no package, so there is nothing to set it on"
                        " (set it on each action instead)",
                    )
        else:
            public = data.get("public", False)
            if not isinstance(public, bool):
                problems.add(
                    data.line_of("public"), f"{path}.public", "true or false", show(public)
                )
            annotations = described_annotations(problems, data, path)
            inputs = parse_inputs(
                problems, data.get("inputs"), data.line_of("inputs"), f"{path}.inputs"
            )
            if name is not None:
                self.packages.append(
                    PackageSpec(
                        name=name,
                        inputs=inputs,
                        annotations=annotations,
                        publish=public is True,
                        where=Where(problems.file, line, path),
                    )
                )
        if "dependencies" in data:
            self.bindings.extend(parse_dependencies(problems, data, path))
        for section, what in (
            ("actions", "action"),
            ("sequences", "sequence"),
            ("triggers", "trigger"),
            ("rules", "rule"),
        ):
            sline, spath = data.line_of(section), f"{path}.{section}"
            entries = problems.mapping(
                data.get(section), sline, spath, f"a mapping of {what} names to {what}s"
            )
            for entry, value in (entries or {}).items():
                self.entry(
                    section, package, entry, value, entries.line_of(entry), f"{spath}.{entry}"
                )
        if "apis" in data:
            self.apis.extend(
                parse_apis(problems, package, data["apis"], data.line_of("apis"), f"{path}.apis")
            )

    def entry(
        self, section: str, package: str | None, raw_name: Any, raw: Any, line: int, path: str
    ) -> None:
        problems = self.problems
        if section == "actions":
            spec: Any = parse_action(problems, self.base, package, raw_name, raw, line, path)
            target: list[Any] = self.actions
        elif section == "sequences":
            spec, target = (
                parse_sequence(problems, package, raw_name, raw, line, path),
                self.sequences,
            )
        elif section == "triggers":
            spec, target = parse_trigger(problems, raw_name, raw, line, path), self.triggers
        else:
            spec, target = parse_rule(problems, package, raw_name, raw, line, path), self.rules
        if spec is not None:
            target.append(spec)

    def _once(self, kind: str, specs: list[Any], key: Any, what: str) -> list[Any]:
        problems = self.problems
        first: dict[str, Any] = {}
        for spec in specs:
            earlier = first.get(spec.name)
            if earlier is None:
                first[spec.name] = spec
            elif key(earlier) != key(spec):
                problems.add(
                    spec.where.line,
                    spec.where.path,
                    f"each {kind} name once in the namespace, or the same {what} each time"
                    f" ({kind}s are not in packages)",
                    f"{spec.name!r} again, different (first at {earlier.where.path})",
                )
            else:
                problems.warn(
                    spec.where.line,
                    spec.where.path,
                    f"{kind} {spec.name!r} is also declared at {earlier.where.path};"
                    " one is deployed, with this declaration's settings",
                )
                first[spec.name] = spec
        return list(first.values())

    def _bindings(self) -> None:
        """Bindings live beside the packages: one per name, never a package's name."""
        problems = self.problems
        names = {p.name: p for p in self.packages}
        for binding in self.bindings:
            where = binding.where or Where(problems.file, 0, "dependencies")
            earlier = names.get(binding.name)
            if earlier is None:
                names[binding.name] = binding
                self.packages.append(binding)
            elif earlier.binding is None or earlier.binding != binding.binding:
                first = earlier.where.path if earlier.where else "?"
                problems.add(
                    where.line,
                    where.path,
                    "a binding name no package or other binding uses"
                    " (a dependency becomes a package binding of that name)",
                    f"{binding.name!r} again (first at {first})",
                )

    def cross_check(self) -> None:
        """Names that must be unique across packages, and references to record."""
        self._bindings()
        problems = self.problems
        code: dict[str, Any] = {}
        for spec in [*self.actions, *self.sequences]:
            if spec.path in code:
                problems.add(
                    spec.where.line,
                    spec.where.path,
                    "one action or sequence per name",
                    f"{spec.path!r} again (first at {code[spec.path].where.path})",
                )
            code.setdefault(spec.path, spec)
        # Triggers and rules live in the namespace, so two packages may declare the same
        # one; wskdeploy refuses that only when they disagree (a trigger's feed, a rule's
        # trigger or action: deployers/manifestreader.go SetTriggers, SetRules).
        self.triggers = self._once("trigger", self.triggers, lambda t: t.feed, "feed")
        self.rules = self._once(
            "rule", self.rules, lambda r: (r.trigger, r.action), "trigger and action"
        )
        self.actions, self.sequences = check_targets(
            problems, self.apis, self.actions, self.sequences
        )
        triggers = {t.name for t in self.triggers}
        # Allowed (the entity may already be on the server), but said, so preflight is no surprise.
        for rule in self.rules:
            if rule.trigger not in triggers:
                problems.warn(
                    rule.where.line,
                    f"{rule.where.path}.trigger",
                    f"trigger {rule.trigger!r} is not"
                    " in this manifest; it must already exist on the server",
                )
            if rule.action.lstrip("/") not in code:
                problems.warn(
                    rule.where.line,
                    f"{rule.where.path}.action",
                    f"action {rule.action!r} is not"
                    " in this manifest; it must already exist on the server",
                )
        for sequence in self.sequences:
            for component in sequence.components:
                if component not in code:
                    problems.warn(
                        sequence.where.line,
                        f"{sequence.where.path}.actions",
                        f"action {component!r}"
                        " is not in this manifest; it must already exist on the server",
                    )
