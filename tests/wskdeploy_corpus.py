"""wskdeploy's own manifests (``tests/fixtures/wskdeploy``) and what each should become.

``expected.yaml`` there is the table: per manifest, the outcome wskdeploy's logic gives
and, for those it deploys, every entity as wskdeploy would create it. This module reads
that table, runs this project's plan model over a manifest (load, bind the deployment
file, bundle, pick kinds from the reference ``server-info.json``, desired entities) and
shapes both sides the same way, so the test compares like with like:

- ``package NAME``: publish, inputs, annotations, binding (``/ns/pkg``)
- ``action PKG/NAME``: kind, main, binary, inputs, annotations, limits that differ from
  OpenWhisk's defaults, and for a zipped folder the zip's entry names
- ``sequence PKG/NAME``: components (without the namespace), inputs, annotations
- ``trigger NAME``: inputs, annotations (a feed is its ``feed`` annotation)
- ``rule NAME``: trigger, action (without the namespace), annotations
- ``api METHOD /base/path``: its API's name, action, response type, and whether it is secured

Empty fields are left out. Annotations this tool writes for its own bookkeeping are left
out, and so are the two it writes where wskdeploy relies on the server's default or
drops a key (``KNOWN_DIFFERENCES``).
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import yaml

from deploy.errors import DeployError

ROOT = Path(__file__).resolve().parent / "fixtures" / "wskdeploy"
TABLE = ROOT / "expected.yaml"
SERVER_INFO = json.loads((ROOT / "server-info.json").read_text())
NAMESPACE = "guest"
DEFAULT_LIMITS = {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1}
BOOKKEEPING = {"whisk-managed", "deploy-digest", "deploy-code-sha256"}
# Annotations this tool writes and wskdeploy does not, each harmless and said here:
KNOWN_DIFFERENCES = {
    # Written false on every action, since OpenWhisk adds it only on create and an action
    # without it is given the key; wskdeploy leaves it to the server, which writes false.
    "provide-api-key": False,
    # An entity's `description:` is written as the annotation UIs read; wskdeploy drops it.
    "description": None,
}
OUTCOMES = ("deploys", "wskdeploy-refuses", "unsupported")


def load_table() -> dict[str, Any]:
    return yaml.safe_load(TABLE.read_text())


def manifests() -> list[str]:
    """Every manifest in the fixture tree (not the deployment files), relative paths."""
    found = []
    for path in sorted(ROOT.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or path.name == "expected.yaml":
            continue
        rel = path.relative_to(ROOT).as_posix()
        deployment = "deployment" in path.name and "-manifest-with-" not in path.name
        if deployment or rel.endswith("random-name-2.yaml"):
            continue  # deployment files (random-name-2 is one, by its content)
        found.append(rel)
    return found


def plan_model(case: str, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Our desired entities for ``case``, shaped for comparison; DeployError if refused."""
    return plan_model_for(case, spec, SERVER_INFO)


def plan_model_for(
    case: str, spec: dict[str, Any], info: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """``plan_model`` with kinds picked from the server document ``info``."""
    from deploy.commands import _artifacts
    from deploy.manifest.deployment import bind_deployment, find_deployment
    from deploy.manifest.loader import load_manifest
    from deploy.plan import desired_entities
    from deploy.runtimes import resolve_kinds

    environ = dict(spec.get("env") or {})
    path = ROOT / case
    manifest = load_manifest(path, environ)
    deployment = spec.get("deployment", "")
    found = (
        find_deployment(path, str(ROOT / deployment) if deployment else None)
        if deployment is not None
        else None
    )
    if found is not None:
        manifest = bind_deployment(manifest, found, environ)
    artifacts = _artifacts(manifest)
    manifest, _ = resolve_kinds(manifest, info)
    return shaped(desired_entities(manifest, artifacts, NAMESPACE))


def refusal(case: str, spec: dict[str, Any]) -> str | None:
    """The error text if our tool refuses ``case``, else None."""
    try:
        plan_model(case, spec)
    except DeployError as exc:
        return str(exc)
    return None


def shaped(entities: list[Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for entity in entities:
        out[f"{entity.kind.value} {entity.name}"] = shape_body(
            entity.kind.value, entity.body, entity.artifact
        )
    return out


def shape_body(kind: str, body: dict[str, Any], artifact: Any = None) -> dict[str, Any]:
    """One entity's comparable fields, from a desired body or a server document."""
    annotations = {
        a["key"]: a.get("value")
        for a in body.get("annotations") or []
        if a["key"] not in BOOKKEEPING
        and not (a["key"] in KNOWN_DIFFERENCES and a["key"] != "provide-api-key")
        and not (a["key"] == "provide-api-key" and a.get("value") is False)
        and not (kind == "package" and a["key"] == "binding")
        and not (a["key"] == "exec" and kind in ("action", "sequence"))
    }
    inputs = {
        p["key"]: p.get("value")
        for p in body.get("parameters") or []
        # OpenWhisk adds the components as a sequence's `_actions` parameter itself.
        if not (kind == "sequence" and p["key"] == "_actions")
    }
    fields: dict[str, Any] = {}
    if kind == "package":
        if body.get("publish"):
            fields["publish"] = True
        binding = body.get("binding")
        if binding:
            fields["binding"] = f"/{binding['namespace']}/{binding['name']}"
    elif kind == "action":
        exec_ = body.get("exec") or {}
        fields["kind"] = exec_.get("kind")
        if exec_.get("main"):
            fields["main"] = exec_["main"]
        if exec_.get("binary"):
            fields["binary"] = True
        limits = {k: v for k, v in (body.get("limits") or {}).items() if DEFAULT_LIMITS.get(k) != v}
        if limits:
            fields["limits"] = limits
        if artifact is not None and artifact.binary and artifact.data[:2] == b"PK":
            entries = sorted(zipfile.ZipFile(io.BytesIO(artifact.data)).namelist())
            if entries == ["__main__.py"] and str(fields["kind"]).startswith("python"):
                # A single .py file goes as a zip holding __main__.py, so every Python
                # action loads alike; wskdeploy sends its text. The runtime runs both.
                del fields["binary"]
            else:
                fields["zip"] = entries
    elif kind == "sequence":
        fields["components"] = [
            _in_namespace(c) for c in (body.get("exec") or {}).get("components", [])
        ]
    elif kind == "rule":
        fields["trigger"] = _in_namespace(body.get("trigger"))
        fields["action"] = _in_namespace(body.get("action"))
    elif kind == "api":
        # A route as createApi gets it: its API's name, the action and the extension; a
        # secured web action's secret is sent too (its value is not shown here).
        apidoc = body.get("apidoc") or {}
        fields["api"] = apidoc.get("apiName")
        fields["action"] = (apidoc.get("action") or {}).get("name")
        fields["response"] = body.get("responsetype")
        if "secureKey" in (apidoc.get("action") or {}):
            fields["secured"] = True
    if kind == "trigger" and "feed" in annotations:
        # wskdeploy creates a feed's trigger bare and passes its inputs to the feed action
        # (deployers/servicedeployer.go createFeedAction); this tool writes the trigger with
        # them and its feed annotation but does not call the feed (it says so).
        fields["feed"] = annotations.pop("feed")
        if inputs:
            fields["feed_inputs"] = inputs
        inputs = {}
    if inputs:
        fields["inputs"] = inputs
    if annotations:
        fields["annotations"] = annotations
    return fields


def _in_namespace(value: Any) -> str:
    """``/ns/pkg/a`` or the server's ``{path, name}`` as ``pkg/a``."""
    if isinstance(value, dict):
        _, _, package = str(value.get("path", "")).partition("/")
        return f"{package}/{value['name']}" if package else str(value["name"])
    parts = str(value).strip("/").split("/")
    return "/".join(parts[1:]) if str(value).startswith("/") else str(value)
