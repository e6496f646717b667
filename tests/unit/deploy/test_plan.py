"""Pure planning: desired bodies, digests, and diffs against hand-built current state."""

from __future__ import annotations

from plan_builders import ART_T, ART_W, by_name, desired, manifest, on_server

from deploy.models import (
    ActionSpec,
    Artifact,
    Kind,
    Limits,
    Manifest,
    Op,
    PackageSpec,
    RuleSpec,
    SequenceSpec,
)
from deploy.plan import (
    DIGEST,
    MANAGED,
    annotation_map,
    build_plan,
    desired_entities,
    undeploy_plan,
)
from deploy.state import to_entity


def test_worker_body_is_the_full_wire_shape() -> None:
    worker = by_name(desired(), "my-worker")
    managed = {
        "projectName": "openwhisk-async",
        "projectHash": "hash-1",
        "file": "manifest.yaml",
        "projectDeps": [],
    }
    assert worker.body == {
        "exec": {"kind": "python:3.11", "binary": True},
        "publish": False,
        "parameters": [],
        "annotations": [
            {"key": "provide-api-key", "value": False},
            {"key": "deploy-code-sha256", "value": "sha-worker"},
            {"key": MANAGED, "value": managed},
            {"key": DIGEST, "value": worker.digest},
        ],
        "limits": {"timeout": 120000, "memory": 256, "logs": 10, "concurrency": 1},
    }
    assert worker.artifact is ART_W


def test_web_action_carries_web_annotations_and_bound_input() -> None:
    web = by_name(desired(), "test")
    annotations = annotation_map(web.body)
    assert {k: annotations[k] for k in ("web-export", "raw-http", "final", "provide-api-key")} == {
        "web-export": True,
        "raw-http": False,
        "final": True,
        "provide-api-key": True,
    }
    assert web.body["parameters"] == [{"key": "worker_action", "value": "my-worker"}]


def test_rule_and_sequence_reference_fully_qualified_paths() -> None:
    m = manifest(
        packages=(PackageSpec("pkg"),),
        actions=(*manifest().actions, ActionSpec("pkg", "a", "python:3.11")),
        sequences=(SequenceSpec("pkg", "s", ("pkg/a", "my-worker", "/other/x/y")),),
        rules=(RuleSpec("r", "my-worker-trigger", "pkg/a"),),
    )
    entities = desired(m)
    rule = by_name(entities, "r")
    assert (rule.body["trigger"], rule.body["action"]) == (
        "/guest/my-worker-trigger",
        "/guest/pkg/a",
    )
    seq = by_name(entities, "pkg/s")
    assert seq.kind is Kind.SEQUENCE
    assert seq.body["exec"] == {
        "kind": "sequence",
        "components": ["/guest/pkg/a", "/guest/my-worker", "/other/x/y"],
    }


def test_digest_ignores_the_manifest_hash_but_not_code_or_limits() -> None:
    base = by_name(desired(), "my-worker").digest
    assert by_name(desired(manifest(digest="hash-2")), "my-worker").digest == base
    other_code = {"my-worker": Artifact(b"x", "sha-other", True), "test": ART_T}
    assert by_name(desired(artifacts=other_code), "my-worker").digest != base
    slower = manifest(
        actions=(
            ActionSpec(None, "my-worker", "python:3.11", limits=Limits(timeout=60000)),
            manifest().actions[1],
        )
    )
    assert by_name(desired(slower), "my-worker").digest != base


def test_empty_namespace_creates_everything_in_dependency_order() -> None:
    m = manifest(packages=(PackageSpec("pkg"),))
    plan = build_plan(desired(m), [], "openwhisk-async")
    assert [c.op for c in plan.changes] == [Op.CREATE] * 5
    assert [c.entity.kind for c in plan.changes] == [
        Kind.PACKAGE,
        Kind.ACTION,
        Kind.ACTION,
        Kind.TRIGGER,
        Kind.RULE,
    ]


def test_redeploy_of_an_unchanged_manifest_is_all_unchanged() -> None:
    want = desired()
    current = [on_server(e) for e in desired(manifest(digest="edited-comment-only"))]
    plan = build_plan(want, current, "openwhisk-async")
    assert plan.is_empty
    assert {c.op for c in plan.changes} == {Op.NOOP}


def test_update_explains_timeout_code_and_web_changes() -> None:
    old = manifest(
        actions=(
            ActionSpec(None, "my-worker", "python:3.11"),
            ActionSpec(None, "test", "python:3.11", inputs={"old": 1}),
        )
    )
    old_arts = {"my-worker": Artifact(b"old", "sha-old", True), "test": ART_T}
    current = [on_server(e) for e in desired(old, old_arts)]
    plan = build_plan(desired(), current, "openwhisk-async")
    changes = {c.entity.name: c for c in plan.changes}
    worker = changes["my-worker"]
    assert worker.op is Op.UPDATE
    assert "code changed" in worker.reasons and "timeout 60000 → 120000" in worker.reasons
    web = changes["test"]
    assert web.op is Op.UPDATE
    assert "web flag added" in web.reasons
    assert "input worker_action added" in web.reasons and "input old removed" in web.reasons
    assert "annotation provide-api-key false → true" in web.reasons
    assert changes["async-rule"].op is Op.NOOP


def test_removed_annotation_is_dropped_with_delannotations() -> None:
    old = manifest(
        actions=(
            ActionSpec(
                None,
                "my-worker",
                "python:3.11",
                limits=Limits(timeout=120000),
                annotations={"description": "old"},
            ),
            manifest().actions[1],
        )
    )
    current = [on_server(e) for e in desired(old)]
    plan = build_plan(desired(), current, "openwhisk-async")
    worker = next(c for c in plan.changes if c.entity.name == "my-worker")
    assert worker.op is Op.UPDATE
    assert worker.entity.body["delAnnotations"] == ["description"]
    assert "annotation description removed" in worker.reasons


def test_delete_only_this_projects_removed_entities() -> None:
    ours_gone = on_server(
        by_name(
            desired(manifest(actions=(ActionSpec(None, "old", "python:3.11"),)), {"old": ART_W}),
            "old",
        )
    )
    theirs = on_server(
        by_name(desired(manifest(project="other")), "my-worker"),
        lambda d: d.update(name="their-worker"),
    )
    unmanaged = to_entity("triggers", {"name": "hand-made", "annotations": []})
    plan = build_plan(desired(), [ours_gone, theirs, unmanaged], "openwhisk-async")
    deletes = [c.entity.name for c in plan.changes if c.op is Op.DELETE]
    assert deletes == ["old"]


def test_same_name_owned_elsewhere_is_a_conflict_unless_forced() -> None:
    theirs = on_server(by_name(desired(manifest(project="other")), "my-worker"))
    plan = build_plan(desired(), [theirs], "openwhisk-async")
    assert len(plan.conflicts) == 1 and "'other'" in plan.conflicts[0]
    forced = build_plan(desired(), [theirs], "openwhisk-async", force=True)
    assert forced.conflicts == () and "taking it over" in forced.warnings[0]
    worker = next(c for c in forced.changes if c.entity.name == "my-worker")
    assert worker.op is Op.UPDATE and "owned by 'other'" in worker.reasons


def test_entity_without_digest_is_updated_not_skipped() -> None:
    current = [
        on_server(
            e, lambda d: d.update(annotations=[a for a in d["annotations"] if a["key"] != DIGEST])
        )
        for e in desired()
    ]
    plan = build_plan(desired(), current, "openwhisk-async")
    assert all(c.op is Op.UPDATE for c in plan.changes)


def test_undeploy_deletes_in_reverse_dependency_order() -> None:
    m = manifest(packages=(PackageSpec("pkg"),))
    current = [on_server(e) for e in desired(m)]
    plan = undeploy_plan(current, "openwhisk-async")
    assert [c.entity.kind for c in plan.changes] == [
        Kind.RULE,
        Kind.TRIGGER,
        Kind.ACTION,
        Kind.ACTION,
        Kind.PACKAGE,
    ]
    assert all(c.op is Op.DELETE for c in plan.changes)


def test_state_reads_package_and_sequence_from_list_summaries() -> None:
    seq = to_entity(
        "actions",
        {
            "name": "s",
            "namespace": "guest/pkg",
            "annotations": [{"key": "exec", "value": "sequence"}],
        },
    )
    assert (seq.kind, seq.name, seq.digest) == (Kind.SEQUENCE, "pkg/s", "")


def test_limit_changed_by_hand_on_the_server_is_put_back() -> None:
    current = [on_server(e, lambda d: d.get("limits", {}).update(timeout=60000)) for e in desired()]
    plan = build_plan(desired(), current, "openwhisk-async")
    [worker] = [c for c in plan.changes if c.op is Op.UPDATE]
    assert worker.entity.name == "my-worker"
    assert worker.reasons == (
        "changed on the server since the last deploy",
        "timeout 60000 → 120000",
    )


def test_reasons_never_show_input_values_or_the_web_secret() -> None:
    def action(inputs: dict, secret: str) -> Manifest:
        return manifest(
            actions=(
                manifest().actions[0],
                ActionSpec(
                    None,
                    "test",
                    "python:3.11",
                    inputs=inputs,
                    annotations={"require-whisk-auth": secret},
                ),
            )
        )

    current = [on_server(e) for e in desired(action({"token": "old-token"}, "old-secret"))]
    plan = build_plan(
        desired(action({"token": "new-token"}, "new-secret")), current, "openwhisk-async"
    )
    [web] = [c for c in plan.changes if c.op is Op.UPDATE]
    text = " ".join(web.reasons)
    assert "input token changed" in text and "annotation require-whisk-auth changed" in text
    assert not any(s in text for s in ("old-token", "new-token", "old-secret", "new-secret"))


def test_kept_leftovers_are_named_in_a_warning_and_never_deleted() -> None:
    old = on_server(by_name(desired(), "my-worker"), lambda d: d.update(name="old"))
    current = [to_entity("actions", old.body)]
    plan = build_plan(desired(), current, "openwhisk-async", keep_leftovers=True)
    assert [c for c in plan.changes if c.op is Op.DELETE] == []
    assert plan.warnings[0].startswith("kept, not deleted: action old: project 'openwhisk-async'")


def test_undeploy_of_a_folder_named_project_deletes_only_what_the_manifest_declares() -> None:
    m = manifest()
    other = on_server(by_name(desired(m), "my-worker"), lambda d: d.update(name="theirs"))
    current = [on_server(e) for e in desired(m)] + [to_entity("actions", other.body)]
    plan = undeploy_plan(current, "openwhisk-async", only=m.declared)
    deleted = {c.entity.name for c in plan.changes if c.op is Op.DELETE}
    assert deleted == {"my-worker", "test", "my-worker-trigger", "async-rule"}
    assert "action theirs" in plan.warnings[0]


def test_digests_do_not_depend_on_how_our_namespace_is_spelled() -> None:
    # `.wskprops` without NAMESPACE gives `_`; WHISK_NAMESPACE=guest the next run: one namespace.
    m = manifest(
        packages=(PackageSpec("pkg"),),
        actions=(*manifest().actions, ActionSpec("pkg", "a", "python:3.11")),
        sequences=(SequenceSpec("pkg", "s", ("pkg/a", "/whisk.system/utils/echo")),),
    )
    arts = {"my-worker": ART_W, "test": ART_T, "pkg/a": ART_W}
    underscore = desired_entities(m, arts, "_")
    named = desired_entities(m, arts, "guest")
    assert [e.digest for e in underscore] == [e.digest for e in named]
    plan = build_plan(named, [on_server(e) for e in underscore], "openwhisk-async")
    assert {c.op for c in plan.changes} == {Op.NOOP}
    # a reference into another namespace is still part of the digest
    elsewhere = manifest(rules=(RuleSpec("async-rule", "my-worker-trigger", "/other/my-worker"),))
    assert by_name(desired(elsewhere), "async-rule").digest != by_name(named, "async-rule").digest


def test_an_update_names_the_field_that_changed() -> None:
    old = manifest(
        packages=(PackageSpec("pkg"),),
        actions=(ActionSpec(None, "my-worker", "python:3.11", limits=Limits(timeout=120000)),),
    )
    new = manifest(
        packages=(PackageSpec("pkg", publish=True),),
        actions=(
            ActionSpec(None, "my-worker", "python:3.11", main="run", limits=Limits(timeout=120000)),
        ),
    )
    arts = {"my-worker": ART_W}
    current = [on_server(e) for e in desired(old, arts)]
    changes = {
        c.entity.name: c for c in build_plan(desired(new, arts), current, "openwhisk-async").changes
    }
    assert changes["pkg"].reasons == ("publish false → true",)
    assert changes["my-worker"].reasons == ('exec.main (default) → "run"',)


def test_an_update_where_only_the_digest_differs_says_so() -> None:
    def stale(doc: dict) -> None:
        for a in doc["annotations"]:
            if a["key"] == DIGEST:
                a["value"] = "written-by-an-older-formula"

    current = [on_server(by_name(desired(), "my-worker-trigger"), stale)]
    [change] = [
        c
        for c in build_plan(desired(), current, "openwhisk-async").changes
        if c.entity.name == "my-worker-trigger"
    ]
    assert change.op is Op.UPDATE
    assert change.reasons == (
        "only the deploy digest differs (deployed by another version of this tool?)",
    )
