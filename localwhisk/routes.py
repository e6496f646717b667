"""The route table: (method, path regex) -> handler, mirroring the swagger paths.

Beside OpenWhisk's ``/api/v1``, the ``/runtime`` paths are Adobe I/O Runtime's own
(log forwarding), which Adobe's CLI calls on the same host.

Patterns match the raw (still percent-encoded) path so that an encoded ``/`` in
a name cannot invent a path segment; handlers receive decoded groups.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from localwhisk.api import actions as api_actions
from localwhisk.api import activations as api_activations
from localwhisk.api import apimgmt as api_apimgmt
from localwhisk.api import dashboard as api_dashboard
from localwhisk.api import dashboardapi as api_dashboardapi
from localwhisk.api import gateway as api_gateway
from localwhisk.api import logforwarding as api_logforwarding
from localwhisk.api import meta as api_meta
from localwhisk.api import packages as api_packages
from localwhisk.api import rules as api_rules
from localwhisk.api import triggers as api_triggers
from localwhisk.api import web as api_web

Handler = Callable[..., Awaitable[Any]]

NS = r"(?P<ns>[^/]+)"
NAME = r"(?P<name>[^/]+)"
PKG = r"(?P<pkg>[^/]+)"
ID = r"(?P<id>[^/]+)"
V1 = "/api/v1"
NSP = f"{V1}/namespaces/{NS}"
# adobe/aio-lib-runtime src/LogForwarding.js: apihost + /runtime/namespaces/{ns}/logForwarding
LOG_FORWARDING = f"/runtime/namespaces/{NS}/logForwarding"
# The API gateway's management actions, served here (apimgmt): before the web routes.
APIMGMT = f"{V1}/web/whisk.system/apimgmt/"
_APIMGMT = re.escape(APIMGMT)
# The dashboard: its static pages, and its data (key and Origin checked as for /api/v1).
DASHBOARD = "/dashboard"
DASH_NS = f"{DASHBOARD}/api/namespaces/{NS}"


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool = True  # Basic auth checked by the server before the handler runs
    # The text every matching path starts with, and (``after``) what follows its
    # namespace segment: a path is tried only against the few patterns it can match,
    # not after thirty regular expressions that cannot (a web action's route is last).
    prefix: str = ""
    after: str = ""


_SPECIAL = frozenset("\\.^$*+?{}[]|()")
_QUANTIFIERS = frozenset("*+?{")


def literal_prefix(path: str) -> str:
    """The literal text a path pattern starts with (``/api/v1/?`` -> ``/api/v1``)."""
    for at, char in enumerate(path):
        if char in _SPECIAL:
            # A quantifier makes the character before it optional: that one goes too.
            return path[: at - 1] if char in _QUANTIFIERS and at else path[:at]
    return path


def _r(method: str, path: str, handler: Handler, auth: bool = True) -> Route:
    prefix = literal_prefix(path)
    rest = path[len(prefix) :]
    after = literal_prefix(rest[len(NS) :]) if rest.startswith(NS) else ""
    return Route(method, re.compile(f"\\A{path}\\Z"), handler, auth, prefix, after)


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

ROUTES: tuple[Route, ...] = (
    (
        _r("GET", "/", api_meta.info, auth=False),
        _r("GET", f"{V1}/?", api_meta.api_info, auth=False),
        _r("GET", f"{V1}/api-docs", api_meta.api_docs, auth=False),
        _r("GET", f"{V1}/namespaces/?", api_meta.namespaces),
        _r("GET", f"{NSP}/limits", api_meta.limits),
        # actions
        _r("GET", f"{NSP}/actions/?", api_actions.list_actions),
        _r("GET", f"{NSP}/actions/{PKG}/", api_actions.list_actions),
        _r("GET", f"{NSP}/actions/(?:{PKG}/)?{NAME}", api_actions.get_action),
        _r("PUT", f"{NSP}/actions/(?:{PKG}/)?{NAME}", api_actions.put_action),
        _r("DELETE", f"{NSP}/actions/(?:{PKG}/)?{NAME}", api_actions.delete_action),
        _r("POST", f"{NSP}/actions/(?:{PKG}/)?{NAME}", api_actions.invoke_action),
        # packages
        _r("GET", f"{NSP}/packages/?", api_packages.list_packages),
        _r("GET", f"{NSP}/packages/{NAME}", api_packages.get_package),
        _r("PUT", f"{NSP}/packages/{NAME}", api_packages.put_package),
        _r("DELETE", f"{NSP}/packages/{NAME}", api_packages.delete_package),
        # triggers
        _r("GET", f"{NSP}/triggers/?", api_triggers.list_triggers),
        _r("GET", f"{NSP}/triggers/{NAME}", api_triggers.get_trigger),
        _r("PUT", f"{NSP}/triggers/{NAME}", api_triggers.put_trigger),
        _r("DELETE", f"{NSP}/triggers/{NAME}", api_triggers.delete_trigger),
        _r("POST", f"{NSP}/triggers/{NAME}", api_triggers.fire_trigger),
        # rules
        _r("GET", f"{NSP}/rules/?", api_rules.list_rules),
        _r("GET", f"{NSP}/rules/{NAME}", api_rules.get_rule),
        _r("PUT", f"{NSP}/rules/{NAME}", api_rules.put_rule),
        _r("DELETE", f"{NSP}/rules/{NAME}", api_rules.delete_rule),
        _r("POST", f"{NSP}/rules/{NAME}", api_rules.set_rule_state),
        # activations
        _r("GET", f"{NSP}/activations/?", api_activations.list_activations),
        _r("GET", f"{NSP}/activations/{ID}", api_activations.get_activation),
        _r("GET", f"{NSP}/activations/{ID}/result", api_activations.get_result),
        _r("GET", f"{NSP}/activations/{ID}/logs", api_activations.get_logs),
        # the dashboard
        _r("GET", f"{DASHBOARD}/?", api_dashboard.page, auth=False),
        _r(
            "GET", f"{DASHBOARD}/(?P<file>[a-z]+\\.(?:html|js|css))", api_dashboard.page, auth=False
        ),
        _r("GET", f"{DASHBOARD}/signin\\.json", api_dashboard.signin, auth=False),
        _r("GET", f"{DASH_NS}/activations/?", api_dashboardapi.list_recent),
        _r("GET", f"{DASH_NS}/activations/{ID}", api_dashboardapi.get_one),
        _r("GET", f"{DASH_NS}/events", api_dashboardapi.events),
        # Adobe I/O Runtime's namespace settings
        _r("GET", LOG_FORWARDING, api_logforwarding.get_log_forwarding),
        _r("PUT", LOG_FORWARDING, api_logforwarding.put_log_forwarding),
        _r("GET", f"{LOG_FORWARDING}/errors", api_logforwarding.get_forwarding_errors),
        # API gateway management: the caller's key decides the namespace (apimgmt checks it).
        _r("POST", f"{_APIMGMT}createApi(?:\\.http)?", api_apimgmt.create_api, auth=False),
        _r("GET", f"{_APIMGMT}getApi(?:\\.http)?", api_apimgmt.get_api, auth=False),
        _r("DELETE", f"{_APIMGMT}deleteApi(?:\\.http)?", api_apimgmt.delete_api, auth=False),
    )
    + tuple(
        # Web actions: any method; auth is the action's business (require-whisk-auth).
        _r(method, f"{V1}/web/{NS}/(?P<rest>.+)", api_web.handle, auth=False)
        for method in METHODS
    )
    + tuple(
        # API gateway routes, /api/<namespace uuid>/<path>: public, like the web actions
        # they reach; /api/v1 stays the REST API's.
        _r(method, "/api/(?P<tenant>(?!v1/)[^/]+)/(?P<path>.*)", api_gateway.handle, auth=False)
        for method in METHODS
    )
)

_BY_METHOD: dict[str, tuple[Route, ...]] = {}
for _route in ROUTES:
    _BY_METHOD[_route.method] = (*_BY_METHOD.get(_route.method, ()), _route)


# (method, raw path) -> the match: a client asks for the same few paths again and again
# (a web action, an invoke), each otherwise tried against the table. Bounded in entries
# and in path length, so hostile paths can only cost the scan they would cost anyway.
_MATCHED: dict[tuple[str, str], tuple[Route, dict[str, str]]] = {}
_MATCHED_LIMIT = 512
_MATCHED_PATH_LIMIT = 256


def match(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a request and its (still encoded) path groups, or None."""
    key = (method, raw_path)
    found = _MATCHED.get(key)
    if found is None:
        found = _scan(method, raw_path)
        if found is None:
            return None
        if len(raw_path) <= _MATCHED_PATH_LIMIT:
            if len(_MATCHED) >= _MATCHED_LIMIT:
                _MATCHED.clear()
            _MATCHED[key] = found
    return found[0], dict(found[1])  # the handler's own copy of the groups


def _scan(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    for route in _BY_METHOD.get(method, ()):
        if not raw_path.startswith(route.prefix):
            continue
        if route.after:  # the namespace segment runs to the next slash
            end = raw_path.find("/", len(route.prefix))
            if end < 0 or not raw_path.startswith(route.after, end):
                continue
        found = route.pattern.match(raw_path)
        if found:
            return route, {k: v for k, v in found.groupdict().items() if v is not None}
    return None


def is_management(raw_path: str) -> bool:
    """Route management: a web path, but it writes to the namespace with the caller's key,
    so the server gates it like the REST API (``origins``)."""
    return raw_path.startswith(APIMGMT)


def allowed_methods(raw_path: str) -> list[str]:
    """Methods some route accepts for this path (for 405 answers)."""
    return sorted({r.method for r in ROUTES if r.pattern.match(raw_path)})
