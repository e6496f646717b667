"""Builders shared by the deploy plan/apply/cli tests: a manifest like the bundle's, as values."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from deploy.models import (
    ActionSpec,
    Artifact,
    Entity,
    Kind,
    Limits,
    Manifest,
    RuleSpec,
    TriggerSpec,
)
from deploy.plan import desired_entities
from deploy.state import to_entity

WEB = {"web-export": True, "raw-http": False, "final": True}
ART_W = Artifact(b"worker-zip", "sha-worker", True)
ART_T = Artifact(b"web-zip", "sha-web", True)


def manifest(**overrides: Any) -> Manifest:
    fields: dict[str, Any] = dict(
        project="openwhisk-async",
        file=Path("manifest.yaml"),
        digest="hash-1",
        actions=(
            ActionSpec(None, "my-worker", "python:3.11", limits=Limits(timeout=120000)),
            ActionSpec(
                None,
                "test",
                "python:3.11",
                annotations={**WEB, "provide-api-key": True},
                inputs={"worker_action": "my-worker"},
            ),
        ),
        triggers=(TriggerSpec("my-worker-trigger"),),
        rules=(RuleSpec("async-rule", "my-worker-trigger", "my-worker"),),
    )
    fields.update(overrides)
    return Manifest(**fields)


def desired(
    m: Manifest | None = None, artifacts: dict[str, Artifact] | None = None
) -> list[Entity]:
    arts = artifacts or {"my-worker": ART_W, "test": ART_T, "pkg/a": ART_W}
    return desired_entities(m or manifest(), arts, "guest")


def by_name(entities: list[Entity], name: str) -> Entity:
    return next(e for e in entities if e.name == name)


def on_server(entity: Entity, mutate: Any = None) -> Entity:
    """The entity as the server returns it (extras added), optionally changed afterwards."""
    doc = copy.deepcopy(entity.body)
    doc["name"] = entity.name.split("/")[-1]
    doc["namespace"] = "guest" if "/" not in entity.name else f"guest/{entity.name.split('/')[0]}"
    if entity.kind in (Kind.ACTION, Kind.SEQUENCE):
        doc["annotations"].append({"key": "exec", "value": doc["exec"]["kind"]})
    if entity.kind is Kind.RULE:
        doc["trigger"] = {"path": "guest", "name": doc["trigger"].rsplit("/", 1)[1]}
        doc["action"] = {"path": "guest", "name": doc["action"].rsplit("/", 1)[1]}
    if mutate:
        mutate(doc)
    return to_entity(entity.kind.collection, doc)
