"""The dashboard's pages: its own static files under ``/dashboard``, with strict headers.

Everything the page loads comes from here (no CDN, no build step): ``index.html``,
``app.js`` and ``style.css`` from ``localwhisk/dashboard``. The policy allows scripts,
styles and connections to this origin only, no inline script, no framing (so another
site cannot overlay it), and no referrer. The page signs in with a namespace key it keeps
in the tab's ``sessionStorage``, and reads through the REST API and ``dashboardapi`` with
Basic auth: nothing here grants access, and no cookie is ever set or read.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from localwhisk.backend import Backend
from localwhisk.errors import RouteNotFound
from localwhisk.http import Request, Response, json_response
from localwhisk.platform.auth import Identity
from whiskfacts.guest import GUEST_AUTH, GUEST_KEY, GUEST_NAMESPACE, GUEST_UUID

FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = [
    ("Content-Security-Policy", POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-cache"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
]


@lru_cache(maxsize=len(FILES))
def _read(name: str) -> bytes:
    return resources.files("localwhisk").joinpath("dashboard", name).read_bytes()


async def page(
    backend: Backend, req: Request, who: Identity | None, args: dict[str, str]
) -> Response:
    name = args.get("file") or "index.html"
    if name not in FILES:
        raise RouteNotFound()
    return Response(200, _read(name), FILES[name], list(HEADERS))


async def signin(
    backend: Backend, req: Request, who: Identity | None, args: dict[str, str]
) -> Response:
    """The key to pre-fill: the well-known guest key, only while it opens this server's
    default guest namespace (a server given its own namespaces pre-fills nothing)."""
    guest = any(
        (n.name, n.uuid, n.key) == (GUEST_NAMESPACE, GUEST_UUID, GUEST_KEY)
        for n in backend.settings.namespaces
    )
    return json_response(200, {"key": GUEST_AUTH if guest else None}, list(HEADERS))
