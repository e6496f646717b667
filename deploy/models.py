"""Inert values shared by the stages: what the manifest asks for, and what a plan does.

No I/O and no behaviour beyond naming. ``manifest`` builds the ``*Spec`` values,
``bundle`` builds ``Artifact``, ``plan`` builds ``Change``/``Plan``; ``apply`` and
``cli`` only read them. Wire names (camelCase, ``{key, value}`` lists) never
appear here: they are ``client``'s business.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class Kind(enum.Enum):
    """Entity kinds in dependency order (deploy goes down the list, undeploy up)."""

    PACKAGE = "package"
    ACTION = "action"
    SEQUENCE = "sequence"
    TRIGGER = "trigger"
    RULE = "rule"
    API = "api"  # an API gateway route; on the wire a call to whisk.system/apimgmt

    @property
    def collection(self) -> str:
        """The REST collection: sequences are actions on the wire."""
        return "actions" if self is Kind.SEQUENCE else f"{self.value}s"

    @property
    def level(self) -> int:
        return list(Kind).index(self)


class Op(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "unchanged"


@dataclass(frozen=True)
class Where:
    """Where a spec came from, for messages: ``manifest.yaml:12 packages.default.actions.test``."""

    file: str
    line: int
    path: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}"


@dataclass(frozen=True)
class Limits:
    """Only the limits the manifest sets; ``None`` means the server's default."""

    timeout: int | None = None  # ms
    memory: int | None = None  # MB
    logs: int | None = None  # MB
    concurrency: int | None = None


@dataclass(frozen=True)
class PackageSpec:
    name: str  # never "default": that package means "no package"
    inputs: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    publish: bool = False
    where: Where | None = None
    # A package binding (a manifest's ``dependencies`` entry): the bound package, "/ns/pkg".
    binding: str | None = None


class _InPackage:
    """For specs that live in a package: ``path`` is their name inside the namespace."""

    package: str | None  # None = the default package (no package)
    name: str

    @property
    def path(self) -> str:
        """``pkg/name`` or ``name``."""
        return f"{self.package}/{self.name}" if self.package else self.name


@dataclass(frozen=True)
class ActionSpec(_InPackage):
    package: str | None  # None = the default package (no package)
    name: str
    runtime: str  # an OpenWhisk kind, e.g. "python:3.11"
    function: Path | None = None  # file or folder, already resolved against the manifest's folder
    code: str | None = None  # inline code (wskdeploy's `code`)
    main: str | None = None
    # Every annotation to write, web ones included (web: true -> web-export, raw-http, final).
    annotations: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    # (source path or glob, destination inside the zip), sources absolute (resolved against
    # the manifest's folder); exclude globs likewise absolute.
    include: tuple[tuple[str, str], ...] = ()
    exclude: tuple[str, ...] = ()
    where: Where | None = None
    # No runtime was written: ``runtime`` is the family's default for the file's extension
    # (``nodejs:default``), to be replaced by the server's default kind of that family.
    inferred_runtime: bool = False


@dataclass(frozen=True)
class SequenceSpec(_InPackage):
    package: str | None
    name: str
    components: tuple[str, ...]  # each "name" or "pkg/name", resolved against `package`
    annotations: dict[str, Any] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)
    where: Where | None = None


@dataclass(frozen=True)
class TriggerSpec:
    name: str  # triggers live at namespace level whatever package declared them
    inputs: dict[str, Any] = field(default_factory=dict)
    annotations: dict[str, Any] = field(default_factory=dict)
    feed: str | None = None
    where: Where | None = None


@dataclass(frozen=True)
class RuleSpec:
    name: str
    trigger: str  # trigger name
    action: str  # "name" or "pkg/name" (package already prefixed as wskdeploy does)
    where: Where | None = None
    annotations: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ApiSpec:
    """One API gateway route (wskdeploy's ``apis:``): ``method`` on the base path and the
    relative path reaches the web action or sequence ``action``, with that extension."""

    api_name: str
    base_path: str  # "/club": one segment (wskdeploy refuses more), with a leading slash
    rel_path: str  # "/books/{isbn}", with a leading slash, kept as written otherwise
    method: str  # upper case: GET, POST, ...
    action: str  # "pkg/name" or "name" (the declaring package already prefixed)
    response: str  # the web action extension the route uses: json, http, html, text, svg
    where: Where | None = None

    @property
    def key(self) -> str:
        """``GET /club/books/{isbn}``: the route's name in plans."""
        return route_key(self.method, self.base_path, self.rel_path)


def route_key(method: str, base_path: str, rel_path: str) -> str:
    return f"{method.upper()} {base_path.rstrip('/')}{rel_path}"


@dataclass(frozen=True)
class Manifest:
    project: str
    file: Path  # the manifest file as given
    digest: str  # sha256 of the manifest bytes: the projectHash of whisk-managed
    packages: tuple[PackageSpec, ...] = ()
    actions: tuple[ActionSpec, ...] = ()
    sequences: tuple[SequenceSpec, ...] = ()
    triggers: tuple[TriggerSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    apis: tuple[ApiSpec, ...] = ()
    warnings: tuple[str, ...] = ()  # legacy keys and the like, printed by the CLI
    namespace: str | None = (
        None  # project.namespace if the manifest names one (wskdeploy: below flags/env)
    )
    # No project.name and no --projectname: ``project`` is the folder's name, which another
    # manifest in that folder shares, so its entities are never deleted as leftovers.
    named_after_folder: bool = False
    # Packages written under project: (not at the top): wskdeploy then checks that a
    # deployment file's project.name agrees (deployers/servicedeployer.go).
    packages_under_project: bool = False
    # project.namespace of the deployment file bound onto this manifest, if it names one:
    # it ranks above the manifest's own (wskdeploy's deployers/whiskclient.go).
    deployment_namespace: str | None = None

    @property
    def declared(self) -> frozenset[tuple[str, str]]:
        """(collection, name) of every entity this manifest declares."""
        return frozenset(
            [("packages", p.name) for p in self.packages]
            + [("actions", a.path) for a in (*self.actions, *self.sequences)]
            + [("triggers", t.name) for t in self.triggers]
            + [("rules", r.name) for r in self.rules]
            + [("apis", a.key) for a in self.apis]
        )


@dataclass(frozen=True)
class Artifact:
    """An action's code as it will be sent: a zip (base64 on the wire) or inline text."""

    data: bytes
    sha256: str
    binary: bool  # True for a zip
    # Its sources mention __OW_API_KEY or the REST path: found while bundling, read by preflight.
    uses_api: bool = False
    # The dependency build zipped in (``deploy.dependencies``): its cache key, a sha256 of the
    # spec's files, the target kind and platform; None when the action has no dependencies.
    dependencies: str | None = None


@dataclass(frozen=True)
class DependencySpec:
    """What an action folder asks to have installed: read from its files, never built here.

    ``ecosystem`` is ``python`` (requirements.txt and/or pyproject.toml ``[project]
    dependencies``) or ``nodejs`` (package.json with its lockfile). ``files`` maps each spec
    file's name to its bytes, in name order: the cache key is taken over them.
    """

    ecosystem: str
    folder: Path
    files: tuple[tuple[str, bytes], ...]
    requirements: tuple[str, ...] = ()  # Python: every requirement line, as pip reads it
    # The zip given as the action's code, when the spec was read from it (``folder`` is then
    # the zip's folder, where relative paths in the spec start).
    archive: Path | None = None


@dataclass(frozen=True)
class Entity:
    """One entity as the plan sees it, desired or current.

    ``name`` is the path inside the namespace (``pkg/name`` for packaged actions).
    ``body`` is the full PUT body, wire-shaped, without the code itself for
    actions (``client`` adds it from ``artifact`` only when a change is applied).
    ``digest`` summarises code and metadata so an unchanged entity is skipped
    without an upload.
    """

    kind: Kind
    name: str
    body: dict[str, Any]
    digest: str
    artifact: Artifact | None = None


@dataclass(frozen=True)
class Change:
    op: Op
    entity: Entity
    reasons: tuple[str, ...] = ()  # "code changed", "timeout 60000 -> 120000", ...


@dataclass(frozen=True)
class Plan:
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()
    # Same-named entities owned by another project or by none: deploy refuses without --force.
    conflicts: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return all(c.op is Op.NOOP for c in self.changes)
