"""Checks JSON responses against the platform's own Swagger 2.0 spec (tests/fixtures).

``validate_response(method, path_template, status, body_json)`` raises ``ContractError``
when the status is not documented for the operation or the body breaks the documented
schema; ``template_for(path)`` finds the spec path a concrete request path belongs to.
Test helper only: it reads the fixture and never talks to a server.

Swagger 2.0 schemas are a dialect of JSON Schema draft 4; the differences handled here:
``$ref`` into ``#/definitions`` and ``#/responses`` (resolved against the spec), the
swagger-only ``type: file`` (accepted as anything) and vendor/annotation keywords such as
``discriminator``, ``readOnly``, ``example``, ``x-*`` (dropped), and object definitions
written without ``type`` (given ``type: object``, which is what the spec means).
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

SPEC_PATH = Path(__file__).resolve().parent / "fixtures" / "openwhisk-apiv1swagger.json"
BASE_PATH = "/api/v1"
NO_BODY = object()  # pass as body_json for an empty response body


class ContractError(AssertionError):
    """A response that the spec does not allow; the message says where and why."""


@lru_cache(maxsize=1)
def load_spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def _swagger_to_draft4(node: Any) -> Any:
    """Copy a swagger schema, rewriting what draft 4 would misread."""
    if isinstance(node, list):
        return [_swagger_to_draft4(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and value == "file":
            continue  # a download: no JSON shape to check
        if key in {"discriminator", "readOnly", "xml", "externalDocs", "example"}:
            continue
        if key.startswith("x-"):
            continue
        # "properties"/"definitions" map names to schemas: their keys are data, not keywords.
        if key in {"properties", "definitions", "patternProperties"} and isinstance(value, dict):
            out[key] = {name: _swagger_to_draft4(schema) for name, schema in value.items()}
        else:
            out[key] = _swagger_to_draft4(value)
    if "type" not in out and ("properties" in out or "required" in out):
        # The spec leaves ``type`` out of every object definition; draft 4 would then accept
        # a string or list where an object is documented.
        out["type"] = "object"
    return out


def _resolve_response(response: dict[str, Any]) -> dict[str, Any]:
    ref = response.get("$ref")
    if ref is None:
        return response
    prefix = "#/responses/"
    if not ref.startswith(prefix):
        raise ContractError(f"unsupported response reference {ref!r}")
    return load_spec()["responses"][ref[len(prefix) :]]


def _strip_base(path: str) -> str:
    return path[len(BASE_PATH) :] if path.startswith(BASE_PATH + "/") else path


def response_schema(method: str, path_template: str, status: int) -> dict[str, Any] | None:
    """The documented schema for this answer; None when documented without a body shape."""
    spec = load_spec()
    template = _strip_base(path_template)
    operations = spec["paths"].get(template)
    if operations is None:
        raise ContractError(f"{template} is not a path of the spec")
    operation = operations.get(method.lower())
    if operation is None:
        raise ContractError(f"{method.upper()} {template} is not an operation of the spec")
    responses = operation["responses"]
    response = responses.get(str(status), responses.get("default"))
    if response is None:
        documented = ", ".join(sorted(responses))
        raise ContractError(
            f"{method.upper()} {template}: status {status} is not documented (documented: {documented})"
        )
    return _resolve_response(response).get("schema")


def validate_response(method: str, path_template: str, status: int, body_json: Any) -> None:
    """Raise ContractError unless ``body_json`` is what the spec documents for this answer."""
    schema = response_schema(method, path_template, status)
    if schema is None:
        return
    label = f"{method.upper()} {_strip_base(path_template)} -> {status}"
    if body_json is NO_BODY:
        raise ContractError(f"{label}: the spec documents a body, the response had none")
    # allOf keeps a top-level $ref from hiding the definitions beside it (draft 4 rule).
    root = {"allOf": [_swagger_to_draft4(schema)], "definitions": _definitions()}
    errors = sorted(Draft4Validator(root).iter_errors(body_json), key=lambda e: list(e.path))
    if errors:
        lines = [f"  at {'/'.join(map(str, e.path)) or '(root)'}: {e.message}" for e in errors[:10]]
        raise ContractError(f"{label}: body breaks the spec:\n" + "\n".join(lines))


# Where the swagger is known to disagree with what the controller sends (its
# PackageCollection list summary and ActivationResponse status codes 0-3 in
# core/entity/ActivationResponse.scala),
# the code wins: each entry widens one definition and says why.
KNOWN_GAPS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    # Package lists summarise a non-binding package as `"binding": false`.
    (
        "Package",
        "binding",
        {"anyOf": [{"$ref": "#/definitions/PackageBinding"}, {"enum": [False]}]},
    ),
    # statusCode 3 is "whisk internal error"; the spec's enum stops at 2.
    ("ActivationBrief", "statusCode", {"type": "integer", "enum": [0, 1, 2, 3]}),
    ("Activation", "statusCode", {"type": "integer", "enum": [0, 1, 2, 3]}),
)


@lru_cache(maxsize=1)
def _definitions() -> dict[str, Any]:
    definitions = _swagger_to_draft4(load_spec()["definitions"])
    for definition, prop, schema in KNOWN_GAPS:
        definitions[definition]["properties"][prop] = schema
    return definitions


@lru_cache(maxsize=1)
def _template_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in load_spec()["paths"]:
        regex = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(f"\\A{regex}\\Z"), template))
    # Literal segments beat parameters: /actions/{pkg}/{name} must not swallow /activations/x/logs.
    patterns.sort(key=lambda p: (p[1].count("{"), -len(p[1])))
    return patterns


def template_for(path: str) -> str:
    """``/api/v1/namespaces/guest/actions/a`` -> ``/namespaces/{namespace}/actions/{actionName}``."""
    concrete = _strip_base(path.split("?", 1)[0])
    for pattern, template in _template_patterns():
        if pattern.match(concrete):
            return template
    raise ContractError(f"{path} matches no path of the spec")
