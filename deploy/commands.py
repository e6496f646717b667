"""The deploy commands: validate, plan, deploy, undeploy, urls, target.

Each takes the CLI's ``CommandContext``, wires the stages and returns an exit code; errors are
raised as ``DeployError`` for ``cli.main`` to print. Stage modules are imported inside
the functions so ``--help`` does not load YAML, Jinja2 or requests.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deploy.errors import PreflightError
from deploy.models import Artifact, Change, Manifest, Plan
from deploy.plan import annotation_map, path_of_document

if TYPE_CHECKING:
    from deploy.apply import Event
    from deploy.cli import CommandContext


def validate(ctx: CommandContext) -> int:
    from deploy import offline
    from deploy.bundle import binary_format
    from deploy.plan import desired_entities

    manifest = _load(ctx)
    artifacts = _artifacts(manifest)
    _check_dependency_specs(manifest)
    advice = offline.check(manifest)  # no server here: what no known platform would take
    for warning in advice:
        ctx.note(f"warning: {warning}")
    desired = desired_entities(manifest, artifacts, "_")
    counts = {
        kind: sum(1 for e in desired if e.kind.value == kind)
        for kind in ("package", "action", "sequence", "trigger", "rule", "api")
    }
    if ctx.args.json:
        ctx.emit(
            {
                "ok": True,
                "project": manifest.project,
                "file": str(manifest.file),
                "counts": counts,
                "warnings": [*manifest.warnings, *advice],
                "artifacts": {
                    k: {"sha256": a.sha256, "bytes": len(a.data), "zip": a.binary}
                    for k, a in artifacts.items()
                },
            }
        )
        return 0
    listed = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in counts.items() if n)
    ctx.say(f"{manifest.file}: project {manifest.project}: {listed or 'nothing declared'}: valid")
    if ctx.args.verbose:
        for path, artifact in sorted(artifacts.items()):
            kind = binary_format(artifact.data) if artifact.binary else "text"
            ctx.say(f"  {path}: {kind}, {len(artifact.data)} bytes, sha256 {artifact.sha256[:12]}")
    return 0


def plan(ctx: CommandContext) -> int:
    manifest, the_plan, warnings = _prepare(ctx, force=ctx.args.force)
    _show_plan(ctx, manifest, the_plan, warnings)
    # Exactly as deploy would: a plan it would refuse is not a plan that passes.
    _refuse_conflicts(ctx, the_plan)
    if ctx.args.json:
        ctx.emit({"ok": True, **_plan_doc(ctx, manifest, the_plan, warnings)})
    return 0


def deploy(ctx: CommandContext) -> int:
    from deploy.ui import (
        dashboard_lines,
        example_lines,
        poll_example,
        route_lines,
        url_lines,
        web_actions,
    )

    manifest, the_plan, warnings = _prepare(ctx, force=ctx.args.force)
    _show_plan(ctx, manifest, the_plan, warnings)
    _refuse_conflicts(ctx, the_plan)
    report = None
    if the_plan.is_empty:
        ctx.say("nothing to do: the namespace already matches the manifest")
    else:
        from deploy.apply import apply_plan  # here: a no-op redeploy skips its thread pool

        ctx.say("applying:")
        report = apply_plan(
            the_plan,
            ctx.client(),
            parallelism=max(1, ctx.args.parallelism),
            on_event=_progress(ctx),
        )
        ctx.say(
            f"deployed: {len(report.applied)} change{'s' if len(report.applied) != 1 else ''} applied"
        )
        for doc in report.readback:  # what the server holds now, not what we sent
            web = ", web" if annotation_map(doc).get("web-export") is True else ""
            ctx.say(
                f"  read back {path_of_document(doc)}: timeout {(doc.get('limits') or {}).get('timeout')} ms{web}"
            )
    urls = web_actions(manifest, ctx.settings.apihost, _real_namespace(ctx, manifest))
    if urls:
        for line in url_lines(urls) + example_lines(poll_example(manifest, urls)):
            ctx.say(line)
    for line in dashboard_lines(ctx.settings):
        ctx.say(line)
    routes = _routes(ctx, manifest)
    for line in route_lines(routes):
        ctx.say(line)
    _requests(ctx)
    if ctx.args.json:
        readback = [
            {
                "name": path_of_document(doc),
                "limits": doc.get("limits"),
                "web": annotation_map(doc).get("web-export") is True,
            }
            for doc in (report.readback if report else [])
        ]
        ctx.emit(
            {
                "ok": True,
                **_plan_doc(ctx, manifest, the_plan, warnings),
                "applied": len(report.applied) if report else 0,
                "readback": readback,
                "urls": urls,
                "routes": routes,
                "example": poll_example(manifest, urls),
            }
        )
    return 0


def undeploy(ctx: CommandContext) -> int:
    from deploy.apply import apply_plan
    from deploy.plan import undeploy_plan
    from deploy.state import fetch_state
    from deploy.ui import plan_lines

    manifest = _load(ctx)
    client = ctx.client()
    only = manifest.declared if manifest.named_after_folder else None
    the_plan = undeploy_plan(fetch_state(client), manifest.project, only)
    for line in plan_lines(the_plan, f"undeploy project {manifest.project}:"):
        ctx.say(line)
    report = None
    if the_plan.is_empty:
        ctx.say(f"nothing deployed for project {manifest.project}")
    else:
        report = apply_plan(
            the_plan, client, on_event=_progress(ctx), keep_going=True, read_back=False
        )
        ctx.say(f"undeployed: {len(report.applied)} entities deleted")
    _requests(ctx)
    if ctx.args.json:
        from deploy.ui import plan_json

        ctx.emit(
            {
                "ok": True,
                "project": manifest.project,
                "plan": plan_json(the_plan),
                "deleted": len(report.applied) if report else 0,
            }
        )
    return 0


def urls(ctx: CommandContext) -> int:
    from deploy.ui import example_lines, poll_example, route_lines, url_lines, web_actions

    manifest = _load(ctx)
    settings = ctx.resolve()
    found = web_actions(manifest, settings.apihost, _real_namespace(ctx, manifest))
    routes = _routes(ctx, manifest)
    if ctx.args.json:
        ctx.emit(
            {"ok": True, "urls": found, "routes": routes, "example": poll_example(manifest, found)}
        )
    else:
        lines = [
            *url_lines(found),
            *route_lines(routes),
            *example_lines(poll_example(manifest, found)),
        ]
        for line in lines:
            ctx.say(line)
    return 0


def target(ctx: CommandContext) -> int:
    settings = ctx.resolve()
    if ctx.args.json:
        ctx.emit(
            {
                "apihost": settings.apihost,
                "namespace": settings.namespace,
                "source": settings.source,
                "isLocalDefault": settings.is_local_default,
            }
        )
    else:
        ctx.say(
            f"apihost:   {settings.apihost}\nnamespace: {settings.namespace}\n"
            f"source:    {settings.source}"
        )
    if ctx.args.is_local_default:
        return 0 if settings.is_local_default else 1
    return 0


# ---- shared steps -------------------------------------------------------------------------


def _load(ctx: CommandContext) -> Manifest:
    from deploy.manifest import loader as manifest_module
    from deploy.manifest.deployment import bind_deployment, find_deployment

    path = manifest_module.find_manifest(Path(ctx.args.manifest))
    manifest = manifest_module.load_manifest(path, ctx.environ, project_name=ctx.args.projectname)
    deployment = find_deployment(path, getattr(ctx.args, "deployment", None))
    if deployment is not None:
        ctx.note(f"deployment file: {deployment}")
        manifest = bind_deployment(manifest, deployment, ctx.environ)
    ctx.manifest_namespace = manifest.namespace
    ctx.deployment_namespace = manifest.deployment_namespace
    for warning in manifest.warnings:
        ctx.note(f"warning: {warning}")
    return manifest


def _artifacts(manifest: Manifest) -> dict[str, Artifact]:
    from deploy.bundle import build_artifact
    from deploy.errors import BundleError

    artifacts = {}
    for action in manifest.actions:
        try:
            artifacts[action.path] = build_artifact(action)
        except BundleError as exc:
            if action.where is None:
                raise
            # bundle knows files, not YAML: say which manifest entry the source came from
            raise BundleError(f"{action.where}: {exc}") from None
    return artifacts


def _check_dependency_specs(manifest: Manifest) -> None:
    """validate's part: every dependency spec can be read (nothing is built or fetched)."""
    from deploy.dependencies.spec import find_spec
    from deploy.errors import DependencyError

    for action in manifest.actions:
        try:
            find_spec(action)
        except DependencyError as exc:
            raise DependencyError(_placed(action, exc)) from None


def _placed(action: Any, exc: Exception | str) -> str:
    """A dependency problem with the manifest entry its action came from, when known."""
    where = f"{action.where}: " if action.where is not None else ""
    return f"{where}action {action.path}: {exc}"


def _with_dependencies(
    ctx: CommandContext, manifest: Manifest, artifacts: dict[str, Artifact]
) -> dict[str, Artifact]:
    """Each action's artifact with its dependencies built in (from the cache when unchanged)."""
    from deploy.dependencies.cache import Cache, cache_root
    from deploy.dependencies.packing import with_dependencies
    from deploy.errors import DependencyError

    cache = Cache(cache_root(ctx.environ))
    out = dict(artifacts)
    for action in manifest.actions:
        try:
            packed = with_dependencies(
                action,
                artifacts[action.path],
                cache,
                ctx.environ,
                note=ctx.note,
                npm_scripts=getattr(ctx.args, "allow_npm_scripts", False),
            )
        except DependencyError as exc:
            raise DependencyError(_placed(action, exc)) from None
        except OSError as exc:  # the cache folder: unwritable, full, not a folder
            raise DependencyError(
                _placed(
                    action,
                    f"the dependency cache {cache.root}: {exc.strerror or exc}"
                    " (hint: free space there, or point OWDEPLOY_CACHE_DIR at a writable folder)",
                )
            ) from None
        if packed.built:
            ctx.note(
                f"dependencies of {action.path}: built for {action.runtime} in {packed.seconds:.1f} s"
                f" (cached in {cache.root})"
            )
        out[action.path] = packed.artifact
    return out


def _prepare(ctx: CommandContext, force: bool) -> tuple[Manifest, Plan, list[str]]:
    """Manifest + artifacts + server state → plan, checked by preflight (reads only)."""
    from deploy import preflight
    from deploy.plan import build_plan, desired_entities
    from deploy.runtimes import resolve_kinds
    from deploy.state import binding_targets, fetch_state

    manifest = _load(ctx)
    artifacts = _artifacts(manifest)
    settings = ctx.resolve()
    client = ctx.client()
    info = client.server_info()  # first: an unreachable server is reported before anything else
    manifest, kind_warnings = resolve_kinds(manifest, info, settings.apihost)
    artifacts = _with_dependencies(ctx, manifest, artifacts)  # needs the kinds the target runs
    desired = desired_entities(manifest, artifacts, settings.namespace)
    current = fetch_state(client, desired)
    the_plan = build_plan(
        desired, current, manifest.project, force=force, keep_leftovers=manifest.named_after_folder
    )
    alternatives = _alternatives(ctx, manifest) if preflight.missing_families(desired, info) else {}
    bindable = binding_targets(client, desired, settings.namespace)
    warnings = kind_warnings + preflight.check(
        desired, current, info, settings.namespace, settings.apihost, alternatives, bindable
    )
    return manifest, the_plan, warnings


def _alternatives(ctx: CommandContext, manifest: Manifest) -> dict[str, frozenset[str]]:
    """The manifests beside this one that load cleanly -> the runtime families their actions
    use, named as the user would pass them to ``-m``; read only when the target lacks a family."""
    from deploy.errors import DeployError
    from deploy.manifest.loader import load_manifest, manifests_beside

    found: dict[str, frozenset[str]] = {}
    for path in manifests_beside(manifest.file):
        try:
            other = load_manifest(path, ctx.environ, project_name=ctx.args.projectname)
        except DeployError:
            continue  # a broken neighbour is no advice; its own deploy will say what is wrong
        found[str(path)] = frozenset(a.runtime.partition(":")[0] for a in other.actions)
    return found


def _refuse_conflicts(ctx: CommandContext, the_plan: Plan) -> None:
    """Same-named entities of another project or of none: refused unless ``--force``."""
    if the_plan.conflicts and not ctx.args.force:
        raise PreflightError(list(the_plan.conflicts))


def _show_plan(
    ctx: CommandContext, manifest: Manifest, the_plan: Plan, warnings: list[str]
) -> None:
    from deploy.ui import plan_lines

    for warning in warnings:
        ctx.note(f"warning: {warning}")
    for line in plan_lines(the_plan, f"plan for project {manifest.project}:"):
        ctx.say(line)


def _plan_doc(
    ctx: CommandContext, manifest: Manifest, the_plan: Plan, warnings: list[str]
) -> dict[str, Any]:
    from deploy.ui import plan_json

    settings = ctx.settings
    return {
        "project": manifest.project,
        "plan": plan_json(the_plan),
        "warnings": warnings,
        "target": {
            "apihost": settings.apihost,
            "namespace": settings.namespace,
            "source": settings.source,
        },
    }


def _progress(ctx: CommandContext) -> Event:
    from deploy.ui import progress_line

    lock = threading.Lock()  # events arrive from the apply thread pool

    def on_event(change: Change, status: str, detail: str) -> None:
        if status == "start":
            return
        with lock:
            ctx.say(progress_line(change, status, detail))

    return on_event


def _routes(ctx: CommandContext, manifest: Manifest) -> list[dict[str, Any]]:
    """The manifest's API routes with the URLs the server gives them (one ``getApi``)."""
    if not manifest.apis:
        return []
    from deploy.routes import route_urls

    return route_urls(ctx.client().list_routes() or [], manifest)


def _real_namespace(ctx: CommandContext, manifest: Manifest) -> str:
    """Web URLs need the real namespace: ``_`` does not resolve there (apache/openwhisk
    docs/webactions.md; the controller's ``WebActions.scala`` looks the name up as given)."""
    namespace = ctx.resolve().namespace
    if namespace != "_":
        return namespace
    names = ctx.client().namespaces()
    return names[0] if names else namespace


def _requests(ctx: CommandContext) -> None:
    count = ctx.request_count()
    if ctx.args.verbose and count is not None:
        ctx.note(f"requests: {count}")
