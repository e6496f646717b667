"""Run a ``Plan`` through the client: the only module that calls mutating client verbs.

Level by level (packages → actions → sequences → triggers → rules → API routes,
deletes in reverse), a bounded thread pool within a level (routes one at a time). Deploy stops after the level in which
something failed and says what was applied, what failed and what was not attempted;
every PUT is a full body with ``overwrite=true`` so a re-run converges. Undeploy
(``keep_going``) goes on past failures and reports them all at the end. Never prints:
progress goes to ``on_event``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from deploy.errors import ApplyError, DeployError
from deploy.models import Change, Entity, Kind, Op, Plan
from deploy.plan import annotation_map, path_of_document

Event = Callable[[Change, str, str], None]  # (change, "start"|"done"|"gone"|"failed", detail)
# From this many written actions on, the read-back lists the actions (200 a page, newest
# first, carrying limits and annotations) instead of one GET each: a 200-action deploy
# reads back in 1-2 requests instead of 200. A list can lag behind writes (CouchDB views),
# so anything it shows missing or different is fetched again before it counts as wrong.
LIST_READ_BACK = 16
# Requests in flight within a level. `make bench` draws the cold 200-action curve twice: on
# loopback (CPU-bound: 4, 8 and 16 are within noise of each other, all ahead of 1) and
# through a 10 ms round-trip relay (latency-bound, like a real OpenWhisk: 16 clearly ahead
# of 8 and 4). 16 is the smallest setting near the best of both; the pool has 32 connections.
PARALLELISM = 16


@dataclass
class ApplyReport:
    applied: list[Change] = field(default_factory=list)
    failed: list[tuple[Change, str]] = field(default_factory=list)
    not_attempted: list[Change] = field(default_factory=list)
    readback: list[dict[str, Any]] = field(default_factory=list)  # actions as the server has them

    @property
    def ok(self) -> bool:
        return not self.failed


def apply_plan(
    plan: Plan,
    client: Any,
    *,
    parallelism: int = PARALLELISM,
    on_event: Event | None = None,
    keep_going: bool = False,
    read_back: bool = True,
) -> ApplyReport:
    """Apply every non-NOOP change; raise ``ApplyError`` (with the report) if any failed."""
    emit = on_event or (lambda change, status, detail: None)
    report = ApplyReport()
    todo = [c for c in plan.changes if c.op is not Op.NOOP]
    levels = [list(group) for _, group in groupby(todo, key=_level_key)]
    with ThreadPoolExecutor(max_workers=max(1, parallelism)) as pool:
        for index, level in enumerate(levels):
            if level[0].entity.kind is Kind.API:
                # One at a time: the gateway rewrites a base path's whole document for each
                # route, so two at once could lose one (wskdeploy creates them in turn too).
                outcomes = [_run(c, client, emit) for c in level]
            else:
                outcomes = list(pool.map(lambda c: _run(c, client, emit), level))
            for change, error in zip(level, outcomes, strict=True):
                if error is None:
                    report.applied.append(change)
                else:
                    report.failed.append((change, error))
            if report.failed and not keep_going:
                report.not_attempted = [c for rest in levels[index + 1 :] for c in rest]
                break
        if not report.failed and read_back:
            written = [
                c for c in report.applied if c.op is not Op.DELETE and c.entity.kind is Kind.ACTION
            ]
            listed = _listed_actions(client) if len(written) >= LIST_READ_BACK else {}
            checks = list(pool.map(lambda c: _read_back(c, client, listed), written))
            report.readback = [doc for doc, _ in checks]
            mismatches = [problem for _, problems in checks for problem in problems]
            if mismatches:
                raise ApplyError(
                    "the server does not hold what was written:\n"
                    + "\n".join(f"  - {m}" for m in mismatches)
                    + "\n  (its limits or annotations may differ from OpenWhisk's; "
                    "check the manifest against the server's GET / limits)"
                )
    if report.failed:
        raise ApplyFailed(report, undeploy=keep_going)
    return report


class ApplyFailed(ApplyError):
    """An ``ApplyError`` that keeps the report, for ``--json`` output."""

    def __init__(self, report: ApplyReport, undeploy: bool) -> None:
        self.report = report
        verb = "undeploy" if undeploy else "deploy"
        lines = [
            f"{verb} did not finish: {len(report.applied)} applied, "
            f"{len(report.failed)} failed, {len(report.not_attempted)} not attempted"
        ]
        lines += [f"  failed: {_label(c)}: {error}" for c, error in report.failed]
        lines += [f"  not attempted: {_label(c)}" for c in report.not_attempted]
        lines += [f"  applied: {_label(c)}" for c in report.applied]
        lines.append(
            f"  fix the failures above and run `{verb}` again: it picks up where this stopped"
        )
        super().__init__("\n".join(lines))


def _run(change: Change, client: Any, emit: Event) -> str | None:
    entity = change.entity
    emit(change, "start", "")
    try:
        if change.op is Op.DELETE:
            if entity.kind is Kind.API:
                gone = not client.delete_route(entity.body)
            else:
                gone = not client.delete(entity.kind.collection, entity.name)
            emit(change, "gone" if gone else "done", "already gone" if gone else "")
        elif entity.kind is Kind.API:
            client.create_route(entity.body)
            emit(change, "done", "")
        else:
            client.put(
                entity.kind.collection,
                entity.name,
                entity.body,
                overwrite=True,
                artifact=entity.artifact,
            )
            emit(change, "done", "")
    except DeployError as exc:
        emit(change, "failed", str(exc))
        return str(exc)
    return None


def _listed_actions(client: Any) -> dict[str, dict[str, Any]]:
    """Action summaries by path (``pkg/name`` for packaged ones)."""
    return {path_of_document(doc): doc for doc in client.list("actions")}


def _read_back(
    change: Change, client: Any, listed: dict[str, dict[str, Any]]
) -> tuple[dict[str, Any], list[str]]:
    """The action as stored (its list summary, else a GET without code), checked."""
    entity = change.entity
    doc = listed.get(entity.name)
    if doc is not None:
        problems = _problems(entity, doc)
        if not problems:
            return doc, problems
    doc = client.get("actions", entity.name, code=False) or {}
    return doc, _problems(entity, doc)


def _problems(entity: Entity, doc: dict[str, Any]) -> list[str]:
    """Compare what matters most: timeout and web flags."""
    problems: list[str] = []
    want_timeout = entity.body.get("limits", {}).get("timeout")
    have_timeout = (doc.get("limits") or {}).get("timeout")
    if want_timeout is not None and have_timeout != want_timeout:
        problems.append(f"action {entity.name}: timeout is {have_timeout}, expected {want_timeout}")
    want, have = annotation_map(entity.body), annotation_map(doc)
    for key in ("web-export", "raw-http", "final", "provide-api-key"):
        if key in want and have.get(key) != want[key]:
            problems.append(
                f"action {entity.name}: annotation {key} is "
                f"{have.get(key)!r}, expected {want[key]!r}"
            )
    return problems


def _level_key(change: Change) -> tuple[bool, int]:
    return (change.op is Op.DELETE, change.entity.kind.level)


def _label(change: Change) -> str:
    return f"{change.op.value} {change.entity.kind.value} {change.entity.name}"
