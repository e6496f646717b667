"""Human and JSON renderings of plans, reports and URLs.

Formatting only: returns strings and plain dicts; never prints, never calls the
server. ``cli`` prints what this returns, through ``settings.mask``.
"""

from __future__ import annotations

import json
import shlex
from collections import Counter
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from deploy.models import Change, Manifest, Op, Plan

SYMBOL = {Op.CREATE: "+", Op.UPDATE: "~", Op.DELETE: "-", Op.NOOP: "="}


def plan_lines(plan: Plan, header: str) -> list[str]:
    lines = [header]
    for change in plan.changes:
        lines.append(change_line(change))
    lines.extend(f"warning: {w}" for w in plan.warnings)
    lines.extend(f"conflict: {c}" for c in plan.conflicts)
    lines.append(summary_line(plan))
    return lines


def change_line(change: Change) -> str:
    entity = change.entity
    why = f": {', '.join(change.reasons)}" if change.reasons else ""
    return f"  {SYMBOL[change.op]} {change.op.value:<9} {entity.kind.value:<8} {entity.name}{why}"


def summary_line(plan: Plan) -> str:
    counts = Counter(c.op for c in plan.changes)
    if not plan.changes:
        return "summary: nothing to do"
    if plan.is_empty:
        return f"summary: nothing to do, {counts[Op.NOOP]} unchanged"
    return (
        f"summary: {counts[Op.CREATE]} to create, {counts[Op.UPDATE]} to update, "
        f"{counts[Op.DELETE]} to delete, {counts[Op.NOOP]} unchanged"
    )


def plan_json(plan: Plan) -> dict[str, Any]:
    counts = Counter(c.op.value for c in plan.changes)
    return {
        "changes": [
            {
                "op": c.op.value,
                "kind": c.entity.kind.value,
                "name": c.entity.name,
                "reasons": list(c.reasons),
            }
            for c in plan.changes
        ],
        "warnings": list(plan.warnings),
        "conflicts": list(plan.conflicts),
        "summary": {op.value: counts.get(op.value, 0) for op in Op},
    }


def progress_line(change: Change, status: str, detail: str) -> str:
    entity = change.entity
    verb = {Op.CREATE: "created", Op.UPDATE: "updated", Op.DELETE: "deleted"}.get(change.op, "")
    if status == "done":
        return f"  {verb} {entity.kind.value} {entity.name}"
    if status == "gone":
        return f"  {entity.kind.value} {entity.name} was already gone"
    return f"  FAILED {change.op.value} {entity.kind.value} {entity.name}: {detail}"


def web_url(apihost: str, namespace: str, package: str | None, name: str) -> str:
    """aio-lib-runtime's ``getActionUrls`` forms: Adobe's per-namespace host, else the apihost."""
    pkg = quote(package or "default", safe="")
    action = quote(name, safe="")
    host = urlsplit(apihost).hostname or ""
    if host == "adobeioruntime.net" or host.endswith(".adobeioruntime.net"):
        return f"https://{quote(namespace, safe='')}.adobeioruntime.net/api/v1/web/{pkg}/{action}"
    return f"{apihost}/api/v1/web/{quote(namespace, safe='')}/{pkg}/{action}"


def web_actions(manifest: Manifest, apihost: str, namespace: str) -> list[dict[str, Any]]:
    """One entry per web action: its URL and a ready curl line (``.json`` gives the dict back).

    The curl line sends the action's ``sampleInput`` annotation when it has one (OpenWhisk's
    docs/annotations.md: "an example showing the input schema with typical values"): as the
    query for flat values, else as a JSON body. So a manifest decides what a first call
    does; the bundle's starts a 2-second job, not the worker's default 100 s.
    """
    out = []
    for action in manifest.actions:
        annotations = action.annotations
        if annotations.get("web-export") is not True:
            continue
        url = web_url(apihost, namespace, action.package, action.name)
        target, data = _sample_request(f"{url}.json", annotations.get("sampleInput"))
        auth = ""
        secured = annotations.get("require-whisk-auth")
        if secured is True:
            auth = ' -u "$WHISK_AUTH"'
        elif secured not in (None, False):
            # The secret itself is not printed: the user has it in the manifest or its variables.
            auth = ' -H "X-Require-Whisk-Auth: $REQUIRE_WHISK_AUTH"'
        entry = {"action": action.path, "url": url, "curl": f"curl -sS{auth}{data} '{target}'"}
        if isinstance(annotations.get("description"), str):
            entry["description"] = annotations["description"]
        out.append(entry)
    return out


def _sample_request(url: str, sample: Any) -> tuple[str, str]:
    """(URL, curl data options) carrying ``sample``: flat values in the query, else JSON."""
    if not isinstance(sample, dict) or not sample:
        return url, ""
    if all(isinstance(v, (str, int, float, bool)) for v in sample.values()):
        query = {k: v if isinstance(v, str) else json.dumps(v) for k, v in sample.items()}
        return f"{url}?{urlencode(query)}", ""
    body = shlex.quote(json.dumps(sample, separators=(",", ":")))
    return url, f" -H 'Content-Type: application/json' -d {body}"


def url_lines(urls: list[dict[str, Any]]) -> list[str]:
    if not urls:
        return ["no web actions in this manifest"]
    lines = ["web actions:"]
    for item in urls:
        lines.append(f"  {item['action']}: {item['url']}")
        if item.get("description"):
            lines.append(f"    {' '.join(item['description'].split())}")  # one line
        lines.append(f"    {item['curl']}")
    return lines


def route_lines(routes: list[dict[str, Any]]) -> list[str]:
    """The API routes as served (``routes.route_urls``), one line each, curl where it fits."""
    if not routes:
        return []
    lines = ["API routes:"]
    for item in routes:
        lines.append(f"  {item['route']} -> {item['action']}: {item['url']}")
        if "curl" in item:
            lines.append(f"    {item['curl']}")
    return lines


def poll_example(manifest: Manifest, urls: list[dict[str, Any]]) -> list[str]:
    """The async pattern with curl alone, two shell lines: start a job, then poll the status
    URL it answers (none when the manifest has no such pair).

    Shown for a web action whose bound ``status_action`` names a web action beside it (the
    bundle's ``test`` and ``status``). Its ``sampleInput`` annotation, when flat, is the
    job's query: the bundle's starts a 2-second job. The start is the plain form, whose
    JSON body ``sed`` reads ``statusUrl`` from (``curl -w '%header{…}'`` needs curl 7.84).
    """
    found = {item["action"]: item["url"] for item in urls}
    for action in manifest.actions:
        sibling = action.inputs.get("status_action")
        if action.path not in found or not isinstance(sibling, str):
            continue
        status = sibling.strip("/") if "/" in sibling else f"{action.package or ''}/{sibling}"
        if status.strip("/") not in found:
            continue
        sample = action.annotations.get("sampleInput")
        flat = isinstance(sample, dict) and all(
            isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in sample.values()
        )
        query = f"?{urlencode(sample)}" if flat and sample else ""
        grab = 'sed -n \'s/.*"statusUrl": *"\\([^"]*\\)".*/\\1/p\''
        return [
            f"status=$(curl -sS '{found[action.path]}{query}' | {grab})",
            'curl -sS -i "$status"',
        ]
    return []


def dashboard_lines(settings: Any) -> list[str]:
    """The local server's dashboard, beside the curl lines: only for the local default
    target, which is the one server known to serve it (a real OpenWhisk has none)."""
    if not settings.is_local_default:
        return []
    return [f"dashboard (live activations and their timeline): {settings.apihost}/dashboard"]


def example_lines(commands: list[str]) -> list[str]:
    if not commands:
        return []
    head = "start a job, then poll it (202 while it runs, then 200 with its result):"
    return [head, *(f"  {c}" for c in commands)]
