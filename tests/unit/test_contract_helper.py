"""The contract helper itself: the fixture is the pinned spec, good bodies pass, bad ones fail."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

TESTS = Path(__file__).resolve().parents[1]
SPEC_SHA256 = "dbef9265686bc78cc4cf8d3acc6b006b6b4479d0a6d3f2dabdc89f9248663d8e"


def load_contract() -> ModuleType:
    # tests/ is not a package; load the helper by path, once, under a stable name.
    if "contract" not in sys.modules:
        spec = importlib.util.spec_from_file_location("contract", TESTS / "contract.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["contract"] = module
        spec.loader.exec_module(module)
    return sys.modules["contract"]


contract = load_contract()
ACTION = "/namespaces/{namespace}/actions/{actionName}"

GOOD_ACTION = {
    "namespace": "guest",
    "name": "hello",
    "version": "0.0.1",
    "publish": False,
    "exec": {"kind": "python:3.11", "binary": False},
    "annotations": [{"key": "exec", "value": "python:3.11"}],
    "parameters": [],
    "limits": {"timeout": 60000, "memory": 256, "logs": 10, "concurrency": 1},
    "updated": 1700000000000,
}


def test_fixture_is_the_pinned_upstream_spec() -> None:
    data = contract.SPEC_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == SPEC_SHA256


def test_a_well_formed_action_passes() -> None:
    contract.validate_response("GET", ACTION, 200, GOOD_ACTION)


def test_the_base_path_may_be_included() -> None:
    contract.validate_response("PUT", "/api/v1" + ACTION, 200, GOOD_ACTION)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"publish": "no"}, "at publish: 'no' is not of type 'boolean'"),
        ({"name": ""}, "at name:"),
        ({"exec": {"kind": "cobol:1"}}, "at exec/kind:"),  # through a nested $ref
        ({"limits": {"timeout": "60s"}}, "at limits/timeout:"),
        ({"annotations": [{"key": 1}]}, "at annotations/0/key:"),
    ],
)
def test_a_wrong_field_fails_and_says_where(change: dict, where: str) -> None:
    with pytest.raises(contract.ContractError) as caught:
        contract.validate_response("GET", ACTION, 200, {**GOOD_ACTION, **change})
    assert where in str(caught.value)


def test_a_missing_required_field_fails() -> None:
    body = {k: v for k, v in GOOD_ACTION.items() if k != "exec"}
    with pytest.raises(contract.ContractError, match="'exec' is a required property"):
        contract.validate_response("GET", ACTION, 200, body)


def test_error_bodies_are_checked_through_response_refs() -> None:
    contract.validate_response(
        "GET", ACTION, 404, {"error": "The requested resource does not exist.", "code": "x"}
    )
    with pytest.raises(contract.ContractError, match="'error' is a required property"):
        contract.validate_response("GET", ACTION, 404, {"message": "nope"})


def test_arrays_check_every_item() -> None:
    brief = {
        "namespace": "guest",
        "name": "a",
        "version": "0.0.1",
        "publish": False,
        "activationId": "x",
        "start": 1,
    }
    path = "/namespaces/{namespace}/activations"
    contract.validate_response("GET", path, 200, [brief, {**brief, "statusCode": 1}])
    with pytest.raises(contract.ContractError, match="at 1/start"):
        contract.validate_response("GET", path, 200, [brief, {**brief, "start": "later"}])


def test_undocumented_status_fails() -> None:
    with pytest.raises(contract.ContractError, match="status 418 is not documented"):
        contract.validate_response("GET", ACTION, 418, {})


def test_unknown_operation_fails() -> None:
    with pytest.raises(contract.ContractError, match="not an operation"):
        contract.validate_response("PATCH", ACTION, 200, {})
    with pytest.raises(contract.ContractError, match="not a path"):
        contract.validate_response("GET", "/nowhere", 200, {})


def test_a_documented_body_cannot_be_empty() -> None:
    with pytest.raises(contract.ContractError, match="had none"):
        contract.validate_response("GET", ACTION, 200, contract.NO_BODY)


def test_statuses_documented_without_schema_accept_anything() -> None:
    # 502 of an invoke is "the activation", described only in prose.
    contract.validate_response("POST", ACTION, 502, {"anything": True})
    contract.validate_response("DELETE", ACTION, 200, contract.NO_BODY)


def test_swagger_only_keywords_are_tolerated() -> None:
    schema = {
        "type": "object",
        "discriminator": "kind",
        "x-extra": {"type": "nonsense"},
        "properties": {"file": {"type": "file"}, "example": {"type": "string", "readOnly": True}},
        "example": {"file": 1},
    }
    converted = contract._swagger_to_draft4(schema)
    assert converted == {
        "type": "object",
        "properties": {"file": {}, "example": {"type": "string"}},
    }


@pytest.mark.parametrize("body", [[], "The requested resource does not exist.", None])
def test_objects_documented_without_type_reject_other_json(body: object) -> None:
    # ErrorMessage and Action carry "required" but no "type" in the spec.
    with pytest.raises(contract.ContractError, match="is not of type 'object'"):
        contract.validate_response("GET", ACTION, 404, body)
    with pytest.raises(contract.ContractError, match="is not of type 'object'"):
        contract.validate_response("GET", ACTION, 200, body)


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/api/v1/namespaces", "/namespaces"),
        ("/api/v1/namespaces/guest/actions", "/namespaces/{namespace}/actions"),
        ("/api/v1/namespaces/guest/actions/a?blocking=true", ACTION),
        (
            "/api/v1/namespaces/guest/actions/p/a",
            "/namespaces/{namespace}/actions/{packageName}/{actionName}",
        ),
        (
            "/api/v1/namespaces/_/activations/abc/logs",
            "/namespaces/{namespace}/activations/{activationid}/logs",
        ),
        (
            "/api/v1/web/guest/default/a.json",
            "/web/{namespace}/{packageName}/{actionName}.{extension}",
        ),
    ],
)
def test_template_for(path: str, template: str) -> None:
    assert contract.template_for(path) == template


def test_template_for_unknown_path_fails() -> None:
    with pytest.raises(contract.ContractError):
        contract.template_for("/api/v1/namespaces/guest/zebras/z")


def test_known_gaps_widen_only_what_the_code_does() -> None:
    package = {"namespace": "guest", "name": "p", "version": "0.0.1", "publish": False}
    path = "/namespaces/{namespace}/packages"
    contract.validate_response("GET", path, 200, [{**package, "binding": False}])
    contract.validate_response("GET", path, 200, [{**package, "binding": {}}])
    with pytest.raises(contract.ContractError, match="at 0/binding"):
        contract.validate_response("GET", path, 200, [{**package, "binding": True}])
