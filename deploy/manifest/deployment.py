"""A wskdeploy deployment file bound onto a manifest: per-environment inputs and names.

wskdeploy reads ``deployment.yaml`` (or ``deployment.yml``) from the project folder, or
the file ``-d`` names, and binds it after the manifest (deployers/deploymentreader.go
BindAssets, deployers/whiskclient.go):

- ``project.namespace`` is the target namespace, below the command line and above the
  manifest's own;
- under ``packages.<name>`` (at the top or under ``project``), ``inputs`` and
  ``annotations`` of the package, of its ``actions.<name>`` and of its
  ``triggers.<name>`` replace the manifest's values of the same key and add new keys;
- a package, action or trigger the manifest does not declare is a warning;
- when the manifest's packages are under ``project`` and so are the file's, both
  ``project.name`` must agree.

Everything else the file may say is ignored by wskdeploy; here each such key is a
warning, and credentials or an API host in it are refused (they belong in the
environment, not in a file next to the code). Values get ``$VAR`` interpolation, and
an unset variable is an error, as in the manifest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deploy.errors import ManifestError
from deploy.manifest.interpolation import render_template
from deploy.manifest.schema import PARAM_KEYS, Problems, show
from deploy.manifest.yamlsource import LineDict, load_yaml
from deploy.models import Manifest

DEPLOYMENT_NAMES = ("deployment.yaml", "deployment.yml")
_TOP = {"project", "packages"}
_PROJECT = {"name", "namespace", "packages", "version", "inputs", "config"}
_REFUSED = {
    "credential": "the API key comes from --auth, WHISK_AUTH or .wskprops, not from a file",
    "apiHost": "the API host comes from --apihost, WHISK_APIHOST or .wskprops",
    "apigwAccessToken": "API gateway tokens are not read from files",
}
_BOUND = ("inputs", "annotations")


def find_deployment(manifest_file: Path, given: str | None) -> Path | None:
    """``given`` (which must exist), else deployment.yaml / .yml beside the manifest."""
    if given is not None:
        path = Path(given)
        if not path.is_file():
            raise ManifestError(
                [f"{given}:0: (file): expected a deployment file, found nothing there"]
            )
        return path
    for name in DEPLOYMENT_NAMES:
        candidate = manifest_file.parent / name
        if candidate.is_file():
            return candidate
    return None


@dataclasses.dataclass
class _Binding:
    """What the file says for one entity: values to lay over the manifest's."""

    inputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    annotations: dict[str, Any] = dataclasses.field(default_factory=dict)


def bind_deployment(manifest: Manifest, path: Path, environ: Mapping[str, str]) -> Manifest:
    """``manifest`` with the deployment file at ``path`` bound onto it."""
    file = str(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(
            [f"{file}:0: (file): expected a readable UTF-8 file, found {exc}"]
        ) from None
    rendered, errors = render_template(text, environ, file)
    if errors:
        raise ManifestError(errors)
    data, yaml_errors = load_yaml(rendered, file)
    if yaml_errors:
        raise ManifestError(yaml_errors)
    problems = Problems(file=file, environ=environ)
    reader = _Reader(problems, manifest)
    namespace = reader.top(data)
    if problems.errors:
        raise ManifestError(problems.errors)
    return reader.bound(namespace)


class _Reader:
    def __init__(self, problems: Problems, manifest: Manifest) -> None:
        self.problems = problems
        self.manifest = manifest
        self.packages: dict[str | None, _Binding] = {}
        self.actions: dict[str, _Binding] = {}
        self.triggers: dict[str, _Binding] = {}

    def top(self, data: Any) -> str | None:
        problems = self.problems
        if data is None:
            return None
        if not isinstance(data, LineDict):
            problems.add(1, "(top)", "a mapping with project: or packages:", show(data))
            return None
        self._keys(data, "", _TOP)
        project = problems.mapping(
            data.get("project"), data.line_of("project"), "project", "a project mapping"
        )
        namespace = None
        if project is not None and "project" in data:
            self._keys(project, "project", _PROJECT | set(_REFUSED))
            namespace = problems.string(project, "namespace", "project")
            if "packages" in project and self.manifest.packages_under_project:
                name = problems.string(project, "name", "project")
                if name != self.manifest.project:
                    problems.add(
                        project.line_of("name"),
                        "project.name",
                        f"the manifest's project name {self.manifest.project!r}"
                        " (wskdeploy refuses a deployment file of another project)",
                        show(name),
                    )
        sources = []
        if project is not None and "packages" in project:
            sources.append((project, "project.packages"))
        elif "packages" in data:
            sources.append((data, "packages"))
        for container, path in sources:
            key = "packages"
            packages = problems.mapping(
                container[key], container.line_of(key), path, "a mapping of package names"
            )
            for raw, value in (packages or {}).items():
                self._package(raw, value, packages.line_of(raw), f"{path}.{raw}")
        return namespace

    def _keys(self, data: LineDict, path: str, allowed: set[str]) -> None:
        problems = self.problems
        for key in data:
            where = f"{path}.{key}" if path else str(key)
            if key in _REFUSED:
                problems.add(
                    data.line_of(key),
                    where,
                    "a key a deployment file may set here",
                    f"'{key}'",
                    _REFUSED[key],
                )
            elif key not in allowed:
                problems.warn(
                    data.line_of(key),
                    where,
                    "ignored: a deployment file binds only namespace, inputs and annotations"
                    " (wskdeploy ignores the rest too)",
                )

    def _package(self, raw: Any, value: Any, line: int, path: str) -> None:
        problems = self.problems
        default = raw == "default"
        name = None if default else problems.name(raw, line, path, "package")
        if name is None and not default:
            return
        data = problems.mapping(value, line, path, "a package mapping (inputs, actions, ...)")
        if data is None:
            return
        self._keys(data, path, {"inputs", "annotations", "actions", "triggers"})
        declared = {p.name for p in self.manifest.packages if p.binding is None}
        if not default and name not in declared:
            problems.warn(line, path, f"package {name!r} is not in the manifest; nothing bound")
            return
        binding = self._values(data, path)
        if default and (binding.inputs or binding.annotations):
            problems.warn(
                line, path, "ignored: default means no package, so there is nothing to bind to"
            )
        elif binding.inputs or binding.annotations:
            self.packages[name] = binding
        actions = problems.mapping(
            data.get("actions"), data.line_of("actions"), f"{path}.actions", "a mapping of actions"
        )
        known = {a.path for a in self.manifest.actions}
        for raw_action, spec in (actions or {}).items():
            aline, apath = actions.line_of(raw_action), f"{path}.actions.{raw_action}"
            action = f"{name}/{raw_action}" if name else str(raw_action)
            entry = problems.mapping(spec, aline, apath, "an action mapping (inputs, annotations)")
            if entry is None:
                continue
            self._keys(entry, apath, set(_BOUND))
            if action not in known:
                problems.warn(
                    aline, apath, f"action {action!r} is not in the manifest; nothing bound"
                )
                continue
            self.actions[action] = self._values(entry, apath)
        triggers = problems.mapping(
            data.get("triggers"),
            data.line_of("triggers"),
            f"{path}.triggers",
            "a mapping of triggers",
        )
        names = {t.name for t in self.manifest.triggers}
        for raw_trigger, spec in (triggers or {}).items():
            tline, tpath = triggers.line_of(raw_trigger), f"{path}.triggers.{raw_trigger}"
            trigger = problems.name(raw_trigger, tline, tpath, "trigger")
            entry = problems.mapping(spec, tline, tpath, "a trigger mapping (inputs, annotations)")
            if entry is None or trigger is None:
                continue
            self._keys(entry, tpath, set(_BOUND))
            if trigger not in names:
                problems.warn(
                    tline, tpath, f"trigger {trigger!r} is not in the manifest; nothing bound"
                )
                continue
            self.triggers[trigger] = self._values(entry, tpath)

    def _values(self, data: LineDict, path: str) -> _Binding:
        """``inputs`` as wskdeploy reads them here: the value as written (a mapping's
        ``value``, else its ``default``), interpolated; no type conversion."""
        problems = self.problems
        binding = _Binding()
        for key, target in (("inputs", binding.inputs), ("annotations", binding.annotations)):
            values = problems.mapping(
                data.get(key), data.line_of(key), f"{path}.{key}", f"a mapping of {key}"
            )
            for name, value in (values or {}).items():
                vline, vpath = values.line_of(name), f"{path}.{key}.{name}"
                if (
                    key == "inputs"
                    and isinstance(value, LineDict)
                    and value
                    and set(value) <= PARAM_KEYS
                ):
                    value = value.get("value", value.get("default"))
                target[str(name)] = problems.expand(_plain(value), vline, vpath)
        return binding

    def bound(self, namespace: str | None) -> Manifest:
        manifest = self.manifest

        def over(spec: Any, binding: _Binding | None) -> Any:
            if binding is None:
                return spec
            return dataclasses.replace(
                spec,
                inputs={**spec.inputs, **binding.inputs},
                annotations={**spec.annotations, **binding.annotations},
            )

        return dataclasses.replace(
            manifest,
            packages=tuple(over(p, self.packages.get(p.name)) for p in manifest.packages),
            actions=tuple(over(a, self.actions.get(a.path)) for a in manifest.actions),
            triggers=tuple(over(t, self.triggers.get(t.name)) for t in manifest.triggers),
            warnings=(*manifest.warnings, *self.problems.warnings),
            deployment_namespace=namespace,
        )


def _plain(value: Any) -> Any:
    """LineDict/LineList as plain dicts and lists: bodies must not carry line maps."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
