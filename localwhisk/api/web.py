"""The web-action route: lookup, ``require-whisk-auth``, a blocking invoke, and the answer.

Translation both ways is ``webactions`` (pure); this module does the I/O around it.
The activation runs as the action's owner, whoever calls; a caller's own
credentials never reach another namespace's action.
"""

from __future__ import annotations

from urllib.parse import unquote

from localwhisk.api import webactions as web
from localwhisk.backend import Backend
from localwhisk.errors import ApiError, NotFound, ReservedParameters, WebAuthFailed
from localwhisk.http import Request, Response, error_response
from localwhisk.models import lookup, truthy
from localwhisk.platform.auth import Identity
from localwhisk.platform.resolver import check_action_read, locate_action


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


async def handle(
    backend: Backend, req: Request, _who: Identity | None, args: dict[str, str]
) -> Response:
    return await serve(backend, req, unquote(args["ns"]), web.split_web_path(unquote(args["rest"])))


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
    if action.annotation("web-export") is not True:
        raise NotFound()
    # As WebActions.scala (verifyWebAction): look up, confirm the export, then check that
    # the owner may run the action at its real path, so a binding to a package its owner
    # has since unpublished is refused with 403.
    check_action_read(backend.store, owner.namespace, action)
    custom_options = action.annotation("web-custom-options") is True
    extra = [] if custom_options else cors
    if req.method == "OPTIONS" and not custom_options:
        return _to_response(web.options_response(req.headers), [])
    caller = backend.auth.identify(req.header("authorization"))
    if req.method != "OPTIONS":
        required = lookup(action.annotations, "require-whisk-auth", web.MISSING)
        secret = req.headers.get(web.WHISK_AUTH_HEADER)
        if not web.check_whisk_auth(required, secret, caller is not None):
            raise WebAuthFailed()
    arguments = web.build_arguments(
        method=req.method,
        headers=_forwarded_headers(req.headers, caller, owner),
        query_string=req.raw_query,
        body=req.body,
        content_type=req.headers.get("content-type"),
        ow_path=target.ow_path,
        user=caller.namespace if caller is not None else None,
        raw=action.annotation("raw-http") is True,
    )
    final_keys = (
        [k for k, v in resolved.params.items() if v is not None]
        if truthy(action.annotation("final"))
        else []
    )
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
