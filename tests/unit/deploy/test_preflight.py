"""Preflight: runtimes and limits from GET /, dangling references, web-action warnings."""

from __future__ import annotations

from typing import Any

import pytest
from plan_builders import ART_T, ART_W, desired, manifest, on_server

from deploy.errors import PreflightError
from deploy.models import ActionSpec, Artifact, Limits, RuleSpec, SequenceSpec
from deploy.preflight import check

MB = 1024 * 1024
INFO: dict[str, Any] = {
    "limits": {
        "min_action_duration": 100,
        "max_action_duration": 300000,
        "min_action_memory": 128 * MB,
        "max_action_memory": 512 * MB,
        "min_action_logs": 0,
        "max_action_logs": 10 * MB,
    },
    "runtimes": {
        "python": [
            {"kind": "python:3.10", "default": True},
            {"kind": "python:3.11", "default": False},
        ]
    },
}


def problems_of(entities: list, current: list | None = None) -> list[str]:
    with pytest.raises(PreflightError) as err:
        check(entities, current or [], INFO, "guest", "http://127.0.0.1:3233")
    assert err.value.exit_code == 2
    return err.value.problems


def test_the_bundle_passes() -> None:
    assert check(desired(), [], INFO, "guest") == []


def test_unknown_runtime_lists_what_the_server_offers() -> None:
    m = manifest(actions=(ActionSpec(None, "my-worker", "python:3.7"), manifest().actions[1]))
    [problem] = problems_of(desired(m))
    assert "python:3.7" in problem and "python:3.10, python:3.11" in problem


def test_family_default_kind_is_accepted() -> None:
    m = manifest(actions=(ActionSpec(None, "my-worker", "python:default"), manifest().actions[1]))
    assert check(desired(m), [], INFO, "guest") == []


def test_limits_compare_ms_and_mb_against_bytes_from_the_server() -> None:
    m = manifest(
        actions=(
            ActionSpec(
                None, "my-worker", "python:3.11", limits=Limits(timeout=400000, memory=1024, logs=5)
            ),
            manifest().actions[1],
        )
    )
    problems = problems_of(desired(m))
    assert any("limits.timeout 400000 ms is above" in p and "300000 ms" in p for p in problems)
    assert any("limits.memory 1024 MB is above" in p and "512 MB" in p for p in problems)
    assert not any("logs" in p for p in problems)


def test_every_dangling_reference_is_reported_at_once() -> None:
    m = manifest(
        sequences=(SequenceSpec(None, "s", ("my-worker", "nope", "/whisk.system/utils/echo")),),
        rules=(RuleSpec("r", "no-trigger", "no-action"),),
    )
    problems = problems_of(desired(m))
    assert len(problems) == 3
    assert any("component /guest/nope" in p for p in problems)
    assert any("trigger /guest/no-trigger" in p for p in problems)
    assert any("action /guest/no-action" in p for p in problems)


def test_references_to_entities_already_on_the_server_are_fine() -> None:
    existing = [on_server(e) for e in desired() if e.name in ("my-worker", "my-worker-trigger")]
    m = manifest(
        actions=(manifest().actions[1],),
        triggers=(),
        rules=(RuleSpec("async-rule", "my-worker-trigger", "my-worker"),),
    )
    assert check(desired(m), existing, INFO, "guest") == []


def test_web_action_longer_than_the_synchronous_cut_warns() -> None:
    web = manifest().actions[1]
    m = manifest(
        actions=(
            manifest().actions[0],
            ActionSpec(
                None,
                "test",
                "python:3.11",
                annotations=web.annotations,
                limits=Limits(timeout=120000),
            ),
        )
    )
    [warning] = check(desired(m), [], INFO, "guest")
    assert "test" in warning and "60000" in warning


def test_code_using_the_api_key_without_provide_api_key_warns() -> None:
    calls_api = Artifact(b"zip", "sha-api", True, uses_api=True)  # as bundle found it
    m = manifest(actions=(manifest().actions[0], ActionSpec(None, "test", "python:3.11")))
    [warning] = check(desired(m, {"my-worker": ART_W, "test": calls_api}), [], INFO, "guest")
    assert "provide-api-key: true" in warning
    assert check(desired(m, {"my-worker": ART_W, "test": ART_T}), [], INFO, "guest") == []


# Adobe I/O Runtime's GET / lists Node.js kinds only.
NODE_ONLY: dict[str, Any] = {
    "runtimes": {
        "nodejs": [
            {"kind": "nodejs:22", "default": True},
            {"kind": "nodejs:24", "default": False},
        ]
    }
}
NODE_MANIFEST = {"manifest.nodejs.yaml": frozenset({"nodejs"})}


def node_bundle() -> list:
    worker, web = manifest().actions
    return desired(
        manifest(
            actions=(
                ActionSpec(None, worker.name, "nodejs:22", limits=worker.limits),
                ActionSpec(None, web.name, "nodejs:22", annotations=web.annotations),
            )
        )
    )


def test_a_family_the_target_lacks_is_one_problem_naming_the_manifest_to_deploy() -> None:
    with pytest.raises(PreflightError) as err:
        check(desired(), [], NODE_ONLY, "guest", "https://rt.example", NODE_MANIFEST)
    assert err.value.problems == [
        "https://rt.example offers only nodejs runtimes (nodejs:22, nodejs:24), and this"
        " manifest's actions need python (my-worker: python:3.11, test: python:3.11);"
        " deploy manifest.nodejs.yaml instead (python -m deploy deploy -m manifest.nodejs.yaml)"
    ]


def test_without_a_fitting_manifest_beside_it_says_to_port_the_actions() -> None:
    others = {"manifest.other.yaml": frozenset({"python"}), "manifest.empty.yaml": frozenset()}
    with pytest.raises(PreflightError) as err:
        check(desired(), [], NODE_ONLY, "guest", "https://rt.example", others)
    [problem] = err.value.problems
    assert problem.endswith(
        "; port them to one of those runtimes and change `runtime` in the manifest"
    )
    assert "manifest.other.yaml" not in problem and "manifest.empty.yaml" not in problem


def test_other_problems_are_still_listed_beside_the_missing_family() -> None:
    worker = manifest().actions[0]
    m = manifest(actions=(worker, ActionSpec(None, "test", "nodejs:14", limits=Limits(timeout=10))))
    target = {"limits": INFO["limits"], "runtimes": NODE_ONLY["runtimes"]}
    with pytest.raises(PreflightError) as err:
        check(desired(m), [], target, "guest", "https://rt.example")
    family, kind, limit = err.value.problems
    assert "need python (my-worker: python:3.11)" in family
    assert kind.startswith("action test: runtime 'nodejs:14' is not offered")
    assert limit.startswith("action test: limits.timeout 10 ms is below")


def test_the_node_bundle_passes_a_node_only_target() -> None:
    assert check(node_bundle(), [], NODE_ONLY, "guest", "https://rt.example", {}) == []


def test_missing_families_names_each_action_and_trusts_an_empty_listing() -> None:
    from deploy.preflight import missing_families

    assert missing_families(desired(), NODE_ONLY) == {
        "python": ["my-worker: python:3.11", "test: python:3.11"]
    }
    assert missing_families(desired(), INFO) == {}
    assert missing_families(desired(), {}) == {}  # nothing listed: kinds are not checked


def with_binding() -> list:
    from deploy.models import PackageSpec

    m = manifest(
        packages=(PackageSpec("utils", binding="/whisk.system/utils"),),
        rules=(RuleSpec("r", "my-worker-trigger", "utils/sort"),),
    )
    return desired(m)


def test_a_binding_to_a_package_the_server_lacks_is_refused_before_any_write() -> None:
    entities = with_binding()
    with pytest.raises(PreflightError) as err:
        check(entities, [], INFO, "guest", "http://h", bindable=frozenset())
    assert err.value.problems == [
        "package utils: binds /whisk.system/utils, which http://h does not have or does not"
        " share with namespace guest; deploy and publish that package first, or fix the"
        " dependency's location"
    ]


def test_a_rule_may_name_an_action_of_a_declared_binding() -> None:
    assert (
        check(with_binding(), [], INFO, "guest", bindable=frozenset({"whisk.system/utils"})) == []
    )
