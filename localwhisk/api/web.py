"""The web-action route: lookup, ``require-whisk-auth``, a blocking invoke, and the answer.

Translation both ways is ``webactions`` (pure); this module does the I/O around it.
The activation runs as the action's owner, whoever calls; a caller's own
credentials never reach another namespace's action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from localwhisk.api import webactions as web
from localwhisk.backend import Backend
from localwhisk.errors import ApiError, NotFound, ReservedParameters, WebAuthFailed
from localwhisk.http import Request, Response, error_response
from localwhisk.models import Action, lookup, truthy
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_action_read, locate_action


@dataclass(frozen=True, slots=True)
class _Exported:
    """What this route reads from an action's annotations, read once per revision."""

    web_export: bool
    custom_options: bool
    require_auth: Any  # the require-whisk-auth value, web.MISSING when absent
    raw: bool
    final: bool


# Action -> its annotations as read here. Every put stores a new Action object, so an
# entry is keyed by identity and holds the action (its id cannot be reused meanwhile);
# the store's entity is read-only, so a revision's annotations never change under it.
_EXPORTED: dict[int, tuple[Action, _Exported]] = {}
_EXPORTED_LIMIT = 1024


def _exported(action: Action) -> _Exported:
    known = _EXPORTED.get(id(action))
    if known is not None and known[0] is action:
        return known[1]
    pairs = action.annotations
    found = _Exported(
        web_export=lookup(pairs, "web-export") is True,
        custom_options=lookup(pairs, "web-custom-options") is True,
        require_auth=lookup(pairs, "require-whisk-auth", web.MISSING),
        raw=lookup(pairs, "raw-http") is True,
        final=truthy(lookup(pairs, "final")),
    )
    if len(_EXPORTED) >= _EXPORTED_LIMIT:  # old revisions go; the live ones come back
        _EXPORTED.clear()
    _EXPORTED[id(action)] = (action, found)
    return found


def _to_response(answer: web.WebResponse, extra: list[tuple[str, str]]) -> Response:
    content_type = None
    headers: list[tuple[str, str]] = []
    for name, value in answer.headers:
        if name.lower() == "content-type" and content_type is None:
            content_type = value
        else:
            headers.append((name, value))
    return Response(answer.status, answer.body, content_type, headers + extra)


def _forwarded_headers(
    headers: dict[str, str], caller: Identity | None, owner: Identity
) -> dict[str, str]:
    """The headers ``__ow_headers`` gets: the platform forwards them all (WebActions.scala).

    One exception: credentials this server accepts for another namespace. Upstream the
    action would see the caller's key in ``__ow_headers.authorization``, so a page
    could trick a signed-in developer into handing their key to someone else's action.
    An Authorization header the server does not recognise (an app's own token) and the
    owner's own key still pass, as upstream.
    """
    if caller is None or caller.namespace == owner.namespace:
        return headers
    return {k: v for k, v in headers.items() if k != "authorization"}


# Raw path rest -> its target: a web action is asked for at the same few paths.
_TARGETS: dict[str, web.WebTarget | None] = {}
_TARGETS_LIMIT = 512
_TARGETS_LENGTH = 256


def _target(raw_rest: str) -> web.WebTarget | None:
    if raw_rest in _TARGETS:
        return _TARGETS[raw_rest]
    target = web.split_web_path(unquote(raw_rest))
    if len(raw_rest) <= _TARGETS_LENGTH:
        if len(_TARGETS) >= _TARGETS_LIMIT:
            _TARGETS.clear()
        _TARGETS[raw_rest] = target  # frozen: shared safely
    return target


async def handle(
    backend: Backend, req: Request, _who: Identity | None, args: dict[str, str]
) -> Response:
    return await serve(backend, req, unquote(args["ns"]), _target(args["rest"]))


async def serve(
    backend: Backend, req: Request, namespace: str, target: web.WebTarget | None
) -> Response:
    """Answer ``req`` as the web action ``target`` of ``namespace`` answers it (None: 404).

    The ``/api/v1/web`` route calls it, and so does the API gateway (``gateway``) for a
    route whose backend is a web action URL, as the real gateway forwards to that URL.
    """
    cors = web.cors_headers(req.headers)
    try:
        return await _handle(backend, req, namespace, target, cors)
    except ApiError as err:
        return error_response(err.status, err.message, req.request_id, [*err.headers, *cors])


async def _handle(
    backend: Backend,
    req: Request,
    namespace: str,
    target: web.WebTarget | None,
    cors: list[tuple[str, str]],
) -> Response:
    owner = backend.auth.identity_of(namespace)
    if target is None or owner is None:
        raise NotFound()
    try:
        resolved = locate_action(backend.store, namespace, target.package, target.action)
    except ApiError:
        raise NotFound() from None
    action = resolved.action
    exported = _exported(action)
    if not exported.web_export:
        raise NotFound()
    # As WebActions.scala (verifyWebAction): look up, confirm the export, then check that
    # the owner may run the action at its real path, so a binding to a package its owner
    # has since unpublished is refused with 403.
    check_action_read(backend.store, owner.namespace, action)
    custom_options = exported.custom_options
    extra = [] if custom_options else cors
    if req.method == "OPTIONS" and not custom_options:
        return _to_response(web.options_response(req.headers), [])
    caller = backend.auth.identify(req.header("authorization"))
    if req.method != "OPTIONS":
        secret = req.headers.get(web.WHISK_AUTH_HEADER)
        if not web.check_whisk_auth(exported.require_auth, secret, caller is not None):
            raise WebAuthFailed()
    arguments = web.build_arguments(
        method=req.method,
        headers=_forwarded_headers(req.headers, caller, owner),
        query_string=req.raw_query,
        body=req.body,
        content_type=req.headers.get("content-type"),
        ow_path=target.ow_path,
        user=caller.namespace if caller is not None else None,
        raw=exported.raw,
    )
    final_keys = [k for k, v in resolved.params.items() if v is not None] if exported.final else []
    if web.reserved_collisions(arguments, final_keys):
        raise ReservedParameters()
    done = await backend.invoker.invoke(
        owner,
        resolved,
        arguments.params,
        blocking=True,
        wait_ms=backend.settings.limits.blocking_wait_ms,
        request_id=req.request_id,
        trace=backend.invoker.caused_by(req),
    )
    act = done.activation
    if act is None:
        answer = web.not_ready_response(req.request_id, done.activation_id)
    else:
        answer = web.render_result(
            target.extension,
            act.status,
            act.result,
            transaction_id=req.request_id,
            activation_id=done.activation_id,
        )
    return _to_response(answer, extra)
