"""A package's ``apis:`` section -> ``ApiSpec`` routes, with wskdeploy's rules and wording.

The grammar (apache/openwhisk-wskdeploy ``specification/html/spec_apis.md``)::

    apis:
      <api name>:
        <base path>:
          <relative path>:
            <action or sequence of this package>:
              method: GET
              response: http

and what ``ComposeApiRecords`` (``parsers/manifest_parser.go``) does with it: both
paths get a leading ``/`` if they lack one; the base path is one segment (no path
parameters there); a path with ``{parameters}`` is served as ``http``; the target must
be an action or sequence of the same package, and a web one: one without any web flag
is made one (with a warning, as wskdeploy does outside ``--strict``), one with
``web: false`` is an error. Without ``response`` wskdeploy sends none and the route
management action picks ``json`` (apache/openwhisk ``core/routemgmt/common/apigw-utils.js``),
so ``json`` it is here too.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from deploy.manifest.schema import Problems, show, web_annotations
from deploy.models import ActionSpec, ApiSpec, SequenceSpec, Where

# whisk.ApiVerbs (apache/openwhisk-client-go whisk/api.go), which wskdeploy checks against.
VERBS = ("GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS")
RESPONSES = ("json", "http", "html", "text", "svg")  # web action extensions
ROUTE_KEYS = {"method", "response"}
MAX_API_NAME = 256


def parse_apis(
    problems: Problems, package: str | None, raw: Any, line: int, path: str
) -> list[ApiSpec]:
    """Every route of one package's ``apis`` mapping; problems go to ``problems``."""
    out: list[ApiSpec] = []
    apis = problems.mapping(raw, line, path, "a mapping of API names to base paths")
    for api_name, bases in (apis or {}).items():
        aline, apath = apis.line_of(api_name), f"{path}.{api_name}"
        if not isinstance(api_name, str) or not api_name.strip() or len(api_name) > MAX_API_NAME:
            problems.add(
                aline, apath, f"an API name of 1 to {MAX_API_NAME} characters", show(api_name)
            )
            continue
        bases = problems.mapping(bases, aline, apath, "a mapping of base paths to relative paths")
        if bases is not None and not bases:
            problems.warn(aline, apath, "declares no routes; nothing is created for it")
        for base, rels in (bases or {}).items():
            out.extend(
                _base(
                    problems, package, api_name, base, rels, bases.line_of(base), f"{apath}.{base}"
                )
            )
    return out


def _base(
    problems: Problems,
    package: str | None,
    api_name: str,
    base: Any,
    rels: Any,
    line: int,
    path: str,
) -> list[ApiSpec]:
    # isGatewayBasePathValid: one segment after an optional leading slash.
    if not isinstance(base, str) or not base.strip("/") or "/" in base.removeprefix("/"):
        problems.add(
            line,
            path,
            "a base path of one segment, such as club (only the relative path may have"
            " more segments and {parameters})",
            show(base),
        )
        return []
    base_path = "/" + base.removeprefix("/")
    out: list[ApiSpec] = []
    rels = problems.mapping(rels, line, path, "a mapping of relative paths to actions")
    for rel, targets in (rels or {}).items():
        rline, rpath = rels.line_of(rel), f"{path}.{rel}"
        if (
            not isinstance(rel, str)
            or not rel.strip()
            or any(c.isspace() or c in "?#" for c in rel)
        ):
            problems.add(rline, rpath, "a relative path such as books/{isbn}", show(rel))
            continue
        rel_path = rel if rel.startswith("/") else "/" + rel
        targets = problems.mapping(
            targets, rline, rpath, "a mapping of action names to {method, response}"
        )
        for action, spec in (targets or {}).items():
            route = _route(
                problems, package, api_name, base_path, rel_path, action, spec,
                targets.line_of(action), f"{rpath}.{action}",
            )  # fmt: skip
            if route is not None:
                out.append(route)
    return out


def _route(
    problems: Problems,
    package: str | None,
    api_name: str,
    base_path: str,
    rel_path: str,
    action: Any,
    raw: Any,
    line: int,
    path: str,
) -> ApiSpec | None:
    name = problems.name(action, line, path, "action or sequence")
    data = problems.mapping(raw, line, path, "a mapping with method (and response)")
    if data is None or name is None:
        return None
    problems.keys(data, path, ROUTE_KEYS, "route key")
    method = data.get("method")
    if not isinstance(method, str) or method.upper() not in VERBS:
        problems.add(
            data.line_of("method"),
            f"{path}.method",
            "an HTTP method: " + ", ".join(VERBS),
            "none" if method is None else show(method),
        )
        return None
    response = data.get("response", "json")
    if not isinstance(response, str) or response.lower() not in RESPONSES:
        problems.add(
            data.line_of("response"),
            f"{path}.response",
            "a web action extension: " + ", ".join(RESPONSES),
            show(response),
        )
        return None
    response = response.lower()
    if "{" in rel_path and response != "http":
        if "response" in data:
            problems.warn(
                data.line_of("response"),
                f"{path}.response",
                f"{response} changed to http: a path with parameters ({rel_path}) reaches"
                " its action only as http (the action reads them from __ow_path)",
            )
        response = "http"
    target = f"{package}/{name}" if package else name
    return ApiSpec(
        api_name,
        base_path,
        rel_path,
        method.upper(),
        target,
        response,
        Where(problems.file, line, path),
    )


def check_targets(
    problems: Problems,
    apis: list[ApiSpec],
    actions: list[ActionSpec],
    sequences: list[SequenceSpec],
) -> tuple[list[ActionSpec], list[SequenceSpec]]:
    """Each route's target is an action or sequence of its package, and a web one.

    Returns the actions and sequences with web annotations added to those that had no
    web flag (``TryUpdateAPIsActionToWebAction``); ``web: false`` is an error. Of routes
    that share a method and path the later one counts, with a warning.
    """
    by_path: dict[str, ActionSpec | SequenceSpec] = {s.path: s for s in [*actions, *sequences]}
    converted: set[str] = set()
    last = {api.key: api for api in apis}
    for api in apis:
        where = api.where or Where(problems.file, 0, "apis")
        if last[api.key] is not api:
            # One route per method and path: wskdeploy creates both, and the second
            # replaces the first (in Go's map order). Here the later one, every time.
            later = last[api.key].where
            problems.warn(
                where.line,
                where.path,
                f"route {api.key} is declared again at {later.path if later else '?'}, which"
                " replaces this one",
            )
        spec = by_path.get(api.action)
        if spec is None:
            problems.add(
                where.line,
                where.path,
                "an action or sequence declared in this package (API routes can only reach"
                " this manifest's own web actions)",
                f"no {api.action!r}",
                f"declare {api.action.rsplit('/', 1)[-1]!r} under this package's actions or"
                " sequences, with web: true",
            )
            continue
        web = spec.annotations.get("web-export")
        if web is False:
            problems.add(
                where.line,
                where.path,
                "a web action or sequence (API routes reach web actions only)",
                f"{api.action!r} with web: false",
                "set web: true on it, or remove the route",
            )
        elif web is None and spec.path not in converted:
            converted.add(spec.path)
            what = "sequence" if isinstance(spec, SequenceSpec) else "action"
            problems.warn(
                where.line,
                where.path,
                f"{what} {spec.path!r} is not a web {what}; an API can only route to one, so it"
                f" is deployed as one (web: true), as wskdeploy does; add web: true to say so",
            )
    web = web_annotations("true")
    return (
        [
            replace(a, annotations={**a.annotations, **web}) if a.path in converted else a
            for a in actions
        ],
        [
            replace(s, annotations={**s.annotations, **web}) if s.path in converted else s
            for s in sequences
        ],
    )
