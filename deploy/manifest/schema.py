"""What the manifest may say: keys per level, legacy aliases, and the value checks.

Owns the vocabulary (wskdeploy's structs in ``parsers/yamlparser.go`` plus the
aio divergences we accept) and ``Problems``, which collects every problem and
warning with its file, line and YAML path. ``manifest`` walks the document and
asks this module whether each key and value is acceptable.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from deploy.manifest.interpolation import MISSING, interpolate
from deploy.manifest.yamlsource import LineDict
from whiskfacts.names import is_entity_name

# OpenWhisk's entity name rule (EntityName.scala), applied to every name we create.

TOP_KEYS = {"project", "packages", "package", "application"}
PROJECT_KEYS = {
    "name",
    "namespace",
    "version",
    "inputs",
    "packages",
    "package",
    "credential",
    "apiHost",
    "apigwAccessToken",
    "config",
}
PACKAGE_KEYS = {
    "version",
    "license",
    "public",
    "namespace",
    "credential",
    "apiHost",
    "apigwAccessToken",
    "description",
    "annotations",
    "inputs",
    "actions",
    "sequences",
    "triggers",
    "rules",
    "dependencies",
    "repositories",
    "feeds",
    "apis",
}
ACTION_KEYS = {
    "function",
    "code",
    "runtime",
    "main",
    "docker",
    "native",
    "conductor",
    "web",
    "web-export",
    "raw-http",
    "require-whisk-auth",
    "limits",
    "inputs",
    "outputs",
    "annotations",
    "include",
    "exclude",
    "version",
    "description",
    "namespace",
    "credential",
    "exposedUrl",
    "location",
}
SEQUENCE_KEYS = {"actions", "web", "annotations", "inputs", "description"}
TRIGGER_KEYS = {"feed", "source", "inputs", "annotations", "namespace", "credential", "description"}
RULE_KEYS = {"trigger", "action", "description", "rule", "annotations"}
LIMIT_KEYS = {
    "timeout",
    "memorySize",
    "logSize",
    "concurrency",
    "memory",
    "concurrentActivations",
    "userInvocationRate",
    "codeSize",
    "parameterSize",
}
PARAM_KEYS = {"type", "value", "default", "description", "required", "status", "schema"}

# Keys that would change what gets deployed but that this tool does not do: errors.
UNSUPPORTED = {
    "namespace": "the namespace comes from --namespace, WHISK_NAMESPACE or .wskprops",
    "credential": "credentials come from --auth, WHISK_AUTH or .wskprops, not from a file",
    "apiHost": "the API host comes from --apihost, WHISK_APIHOST or .wskprops",
    "apigwAccessToken": "API gateway tokens are not read from the manifest; routes are"
    " deployed with the default token, as wsk and wskdeploy send when none is set",
    "config": "OpenAPI route files are not deployed by this tool; declare the routes under a"
    " package's apis: instead",
    "docker": "docker (blackbox) actions are not supported; use a runtime kind such as python:3.11",
    "native": "native (blackbox) actions are not supported; use a runtime kind such as python:3.11",
    "conductor": "conductor actions are not supported",
}
# Keys accepted but not deployed: warnings, so nothing is ignored silently.
IGNORED = {
    "version": "OpenWhisk assigns versions itself",
    "license": "OpenWhisk does not store a license",
    "outputs": "outputs are not deployed (wskdeploy does not deploy them either)",
    "exposedUrl": "exposedUrl is not deployed",
    "userInvocationRate": "it is a namespace limit, not settable per action",
    "codeSize": "it is a system limit, not settable per action",
    "parameterSize": "it is a system limit, not settable per action",
    "concurrentActivations": (
        "it is a namespace limit, not settable per action, and wskdeploy ignores it too;"
        " write concurrency for activations per container"
    ),
    "repositories": "repositories are not deployed (wskdeploy does not deploy them either)",
    "feeds": (
        "a package's feeds are not deployed (wskdeploy does not deploy them either);"
        " declare a trigger with `feed:`"
    ),
    "rule": "the rule's name is its key (wskdeploy ignores this key too)",
}
# Below the project these keys name where an entity goes, but wskdeploy sends every
# request to the target namespace whatever they say (parsers/manifest_parser.go sets the
# entity's namespace field, which the REST path ignores): warnings there, not errors.
PLACEMENT = frozenset({"namespace", "credential", "apiHost", "apigwAccessToken"})
PLACEMENT_NOTE = (
    "ignored: entities go to the target namespace (--namespace, WHISK_NAMESPACE, .wskprops"
    " or project.namespace), as wskdeploy sends them"
)
# Value types of inputs (wskdeploy's parameters.go) -> canonical name.
TYPES = {
    "string": "string",
    "integer": "integer",
    "int": "integer",
    "int8": "integer",
    "int16": "integer",
    "int32": "integer",
    "int64": "integer",
    "float": "float",
    "float32": "float",
    "float64": "float",
    "boolean": "boolean",
    "bool": "boolean",
    "json": "json",
    "map": "json",
    "slice": "slice",
}
ZERO = {"string": "", "integer": 0, "float": 0.0, "boolean": False, "json": {}, "slice": []}
# wskdeploy infers a kind from the extension; we infer the family's default kind.
RUNTIMES = {
    ".py": "python:default",
    ".js": "nodejs:default",
    ".php": "php:default",
    ".rb": "ruby:default",
    ".swift": "swift:default",
    ".go": "go:default",
    ".rs": "rust:default",
    ".java": "java:default",
    ".jar": "java:default",
}
WEB = {"true": "true", "yes": "true", "raw": "raw", "false": "false", "no": "false"}
MAX_SAFE_INT = 2**53 - 1


def one_line(text: str) -> str:
    """A problem is one line: a key holding a line break or control character (``"a\\rb":``)
    is shown escaped, so it cannot split the message or rewrite a terminal line."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def show(value: Any) -> str:
    """A found value as a message shows it (YAML spelling for scalars)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 80 else f"{value[:40]!r}... ({len(value)} characters)"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


@dataclass
class Problems:
    """Collects problems and warnings for one manifest file; knows how to look up $VARs."""

    file: str
    environ: Mapping[str, str]
    inputs: dict[str, Any] = field(default_factory=dict)  # project inputs, looked up first
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, line: int, path: str, expected: str, found: str, hint: str = "") -> None:
        tail = f" (hint: {hint})" if hint else ""
        self.errors.append(
            one_line(f"{self.file}:{line}: {path}: expected {expected}, found {found}{tail}")
        )

    def warn(self, line: int, path: str, text: str) -> None:
        self.warnings.append(one_line(f"{self.file}:{line}: {path}: {text}"))

    def lookup(self, name: str) -> Any:
        if name in self.inputs:
            return self.inputs[name]
        return self.environ.get(name, MISSING)

    def expand(self, value: Any, line: int, path: str) -> Any:
        """wskdeploy's $VAR interpolation; each unset variable is a problem."""

        def missing(name: str) -> None:
            self.add(
                line,
                path,
                f"environment variable {name} to be set",
                "it unset",
                f"export {name}=..., or write $${{{name}}} for a literal ${{{name}}};"
                f" export {name}= (empty) for wskdeploy's behaviour, which substitutes ''",
            )

        return interpolate(value, self.lookup, missing)

    def mapping(self, value: Any, line: int, path: str, what: str) -> LineDict | None:
        """``value`` if it is a mapping (an empty value counts as an empty one)."""
        if value is None:
            empty = LineDict()
            empty.line = line
            return empty
        if isinstance(value, LineDict):
            return value
        self.add(line, path, what, show(value))
        return None

    def keys(
        self,
        data: LineDict,
        path: str,
        allowed: set[str],
        what: str,
        used: frozenset[str] = frozenset(),
    ) -> None:
        """Every key must be known; unsupported ones (but ``used``) are errors, ignored ones warnings."""
        for key in data:
            line = data.line_of(key)
            where = f"{path}.{key}" if path else str(key)
            if key not in allowed:
                import difflib  # only for a misspelt key: a valid manifest never pays for it

                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = (
                    f"did you mean '{close[0]}'?"
                    if close
                    else "known keys: " + ", ".join(sorted(allowed))
                )
                if (
                    key in ("timeout", "memorySize", "logSize", "concurrency")
                    and what == "action key"
                ):
                    hint = f"limits go under limits: {{{key}: ...}}"
                self.add(line, where, f"a known {what}", f"unknown key '{key}'", hint)
            elif key in PLACEMENT and what not in ("project key", "top-level key"):
                self.warn(line, where, PLACEMENT_NOTE)
            elif key in UNSUPPORTED and key not in used:
                self.add(
                    line,
                    where,
                    f"{article(what)} {what} this tool deploys",
                    f"unsupported key '{key}'",
                    UNSUPPORTED[key],
                )
            elif key in IGNORED:
                self.warn(line, where, f"ignored: {IGNORED[key]}")

    def name(self, raw: Any, line: int, path: str, what: str) -> str | None:
        """An entity name after $VAR interpolation, checked against OpenWhisk's rule."""
        before = len(self.errors)
        name = self.expand(raw, line, path) if isinstance(raw, str) else raw
        if len(self.errors) > before:
            return None  # an unset variable, already reported
        if not is_entity_name(name):
            self.add(
                line,
                path,
                f"a valid {what} name (ASCII letters, digits, _ @ . & - and"
                " inner spaces, at most 256 characters)",
                show(name),
            )
            return None
        return name

    def string(self, data: LineDict, key: str, path: str, *, expand: bool = True) -> str | None:
        value = data.get(key)
        if value is None:
            return None
        line = data.line_of(key)
        if not isinstance(value, str):
            self.add(line, f"{path}.{key}", "a string", show(value))
            return None
        return self.expand(value, line, f"{path}.{key}") if expand else value


def web_flag(value: Any) -> str | None:
    """``true``/``raw``/``false`` for a valid web value (booleans too), else None."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return WEB.get(value.strip().lower())
    return None


def web_annotations(flag: str) -> dict[str, bool]:
    """wskdeploy's webaction.go: web implies final; raw also sets raw-http."""
    return {"web-export": flag != "false", "raw-http": flag == "raw", "final": flag != "false"}


def valid_whisk_auth(value: Any) -> bool:
    """wskdeploy's rule: a non-empty string, a positive int up to 2^53-1, or a boolean."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return 0 < value <= MAX_SAFE_INT
    return isinstance(value, str) and value.strip() != ""


def typed_value(kind: str, value: Any) -> tuple[bool, Any]:
    """Check ``value`` against a canonical input type; JSON strings parse for ``json``."""
    if kind == "string":
        return isinstance(value, str), value
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool), value
    if kind == "float":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if kind == "boolean":
        return isinstance(value, bool), value
    if kind == "slice":
        return isinstance(value, list), value
    if isinstance(value, str):  # json given as a JSON text
        try:
            return True, json.loads(value)
        except ValueError:
            return False, value
    return isinstance(value, (dict, list)), value


def inferred_type(value: Any) -> str:
    """The type an untyped value declares, for messages."""
    for kind in ("boolean", "integer", "float", "string", "slice"):
        if typed_value(kind, value)[0]:
            return kind
    return "json"
