"""Web actions as pure translation: HTTP request -> action arguments, activation -> HTTP response.

Pure: no I/O, no asyncio, no clock. It mirrors OpenWhisk's
``core/controller/src/main/scala/org/apache/openwhisk/core/controller/WebActions.scala``
as ``docs/webactions.md`` describes it. The web route handler does the lookups, auth,
invoke and waiting, and calls, in order:

``split_web_path(rest) -> WebTarget | None``
    ``rest`` is the percent-decoded path after ``/api/v1/web/{ns}/``. ``None``: not a
    web-action path (answer 404). ``package`` is ``None`` for ``default``; ``extension``
    is one of ``EXTENSIONS`` without the dot (``"http"`` when absent); ``ow_path`` is the rest.
``check_whisk_auth(annotation, header_value, has_valid_credentials) -> bool``
    The ``require-whisk-auth`` check ("Securing web actions" in docs/webactions.md).
    ``annotation`` is ``MISSING`` when the action has no such annotation. ``False`` ->
    answer ``errors.WebAuthFailed`` (401).
``build_arguments(*, method, headers, query_string, body, content_type, ow_path, user, raw)
-> WebArguments``
    The ``__ow_*`` arguments plus merged query/body ("HTTP Context" there). Raises
    ``errors.MalformedRequest`` for a JSON body that does not parse. Merge the result
    over the action's parameters (later wins) to get the activation's arguments.
``reserved_collisions(arguments, final_keys) -> frozenset[str]``
    Request keys that may not be set; non-empty -> raise ``errors.ReservedParameters``.
``render_result(extension, status, result, *, transaction_id, activation_id=None)
-> WebResponse``
    The finished activation as the HTTP answer for the extension, error bodies included;
    ``status`` is the activation's ``response.status`` string (``models.SUCCESS`` ...).
``not_ready_response(transaction_id, activation_id) -> WebResponse``
    The 202 when the 60 s wait ran out (``Messages.responseNotReady``).
``cors_headers(request_headers) -> list[tuple[str, str]]`` / ``options_response(request_headers)``
    "Options Requests" there: without ``web-custom-options: true`` the caller appends
    ``cors_headers`` to every web response and answers OPTIONS with ``options_response``
    (no auth, no invoke); with it, OPTIONS is invoked like any method and no CORS headers
    are added.

Every error body here is ``http.error_document(message, transaction_id)``, the id given by
the caller (the same value as its ``X-Request-ID``). ``WebResponse.headers`` never holds
``Content-Length``, ``X-Request-ID`` or CORS headers: the server and caller add those.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from localwhisk import codec
from localwhisk.api.mediatypes import is_binary, parse_media_type, render_type
from localwhisk.errors import MalformedRequest
from localwhisk.http import ACTIVATION_ID_HEADER, JSON_TYPE, dumps, error_document, parse_query
from localwhisk.models import APPLICATION_ERROR, SUCCESS
from whiskfacts.names import is_entity_name

EXTENSIONS = (".json", ".html", ".http", ".svg", ".text")
RESERVED = frozenset(
    {"__ow_method", "__ow_headers", "__ow_path", "__ow_user", "__ow_query", "__ow_body"}
)
WHISK_AUTH_HEADER = "x-require-whisk-auth"

# Messages are the platform's exact texts (ErrorResponse.scala `Messages`).
ERROR_PROCESSING = "There was an error processing your request."
PROPERTY_NOT_FOUND = "Response does not include requested property."
CONTENT_TYPE_MISMATCH = "Response type in header did not match generated content type."
UNKNOWN_CONTENT_TYPE = "Response did not specify a known content-type."
NOT_READY = "Response not yet ready."

ALLOW_METHODS = "OPTIONS, GET, DELETE, POST, PUT, HEAD, PATCH"
DEFAULT_ALLOW_HEADERS = "Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"

MISSING: Any = object()  # "the action has no require-whisk-auth annotation"

_BASE64_LOOKING = re.compile(r"([A-Za-z0-9+/]{4})*([A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)?")
_JAVA_INT = re.compile(r"[+-]?[0-9]+")
_STATUS_CODES = frozenset(int(s) for s in HTTPStatus)
_NO_BODY_CODES = frozenset({204, 304})


@dataclass(frozen=True)
class WebTarget:
    package: str | None
    action: str
    extension: str  # "json", "html", "http", "svg" or "text"
    ow_path: str  # "" or "/extra/path"


@dataclass(frozen=True)
class WebArguments:
    params: dict[str, Any]  # __ow_* plus query/body values, before the action's parameters
    request_keys: frozenset[str]  # top-level keys the caller set via query or body (non-raw)


@dataclass(frozen=True)
class WebResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), for tests and callers."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def split_web_path(rest: str) -> WebTarget | None:
    """``"pkg/action.ext/extra/path"`` -> WebTarget; None when the path names no web action."""
    parts = rest.split("/", 2)
    if len(parts) < 2:
        return None
    package, name = parts[0], parts[1]
    ow_path = "/" + parts[2] if len(parts) == 3 else ""
    if not is_entity_name(package) or not is_entity_name(name):
        return None
    extension = "http"
    for ext in EXTENSIONS:
        if name.endswith(ext):
            name, extension = name[: -len(ext)], ext[1:]
            break
    if not is_entity_name(name):
        return None
    return WebTarget(None if package == "default" else package, name, extension, ow_path)


def check_whisk_auth(
    annotation: Any, header_value: str | None, has_valid_credentials: bool
) -> bool:
    """The ``require-whisk-auth`` gate: may this request run the action?

    ``true``: valid credentials; a string or number: the ``X-Require-Whisk-Auth`` header
    equals it (numbers in their string form); ``false`` or absent: open; any other value
    (null, object, array): always refused (``confirmAuthenticated`` upstream).
    """
    if annotation is MISSING or annotation is False:
        return True
    if annotation is True:
        return has_valid_credentials
    if not isinstance(annotation, (str, int, float)):
        return False
    if header_value is None:
        return False
    # Constant-time so the secret cannot be guessed byte by byte from response timing.
    return hmac.compare_digest(header_value.encode(), str(annotation).encode())


def build_arguments(
    *,
    method: str,
    headers: Mapping[str, str],
    query_string: str,
    body: bytes,
    content_type: str | None,
    ow_path: str,
    user: str | None,
    raw: bool,
) -> WebArguments:
    """The action's web arguments. ``headers``: names lower case, last value wins.

    ``content_type`` is the request's Content-Type (None: absent). ``user`` is the
    caller's namespace when the request carried valid credentials.
    """
    if content_type is None and body:
        # The HTTP layer upstream gives an untyped body this type, so it arrives base64.
        content_type = "application/octet-stream"
    ow_headers = {
        name.lower(): value
        for name, value in headers.items()
        # The platform's HTTP stack models these as the entity, not as headers.
        if name.lower() not in {"content-type", "content-length", "transfer-encoding"}
    }
    if content_type is not None:
        ow_headers["content-type"] = content_type
    params: dict[str, Any] = {
        "__ow_method": method.lower(),
        "__ow_headers": ow_headers,
        "__ow_path": ow_path,
    }
    if user is not None:
        params["__ow_user"] = user

    if raw:
        params["__ow_query"] = query_string
        params["__ow_body"] = _raw_body(body, content_type)
        return WebArguments(params, frozenset())

    query = parse_query(query_string)
    parsed = _body_value(body, content_type)
    params.update(query)
    keys = set(query)
    if isinstance(parsed, dict):
        params.update(parsed)
        keys.update(parsed)
    elif parsed is not None:
        params["__ow_body"] = parsed
    return WebArguments(params, frozenset(keys))


def _raw_body(body: bytes, content_type: str | None) -> str:
    if content_type is None:
        return ""
    parsed = parse_media_type(content_type)
    # application/json stays base64 in raw mode: a legacy choice upstream keeps.
    if parsed is None or is_binary(*parsed) or parsed[0].essence == "application/json":
        return base64.b64encode(body).decode("ascii")
    return body.decode("utf-8", errors="replace")


def _body_value(body: bytes, content_type: str | None) -> Any:
    """None (nothing), a dict (to merge) or any other JSON value (-> ``__ow_body``)."""
    if content_type is None:
        return None
    parsed = parse_media_type(content_type)
    if parsed is None or is_binary(*parsed):
        return base64.b64encode(body).decode("ascii")
    media = parsed[0]
    if media.is_json:
        if not body.strip():
            return None
        try:
            return codec.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedRequest(str(exc)) from exc
    text = body.decode("utf-8", errors="replace")
    if media.essence == "application/x-www-form-urlencoded":
        return parse_query(text)
    return text


def reserved_collisions(arguments: WebArguments, final_keys: Iterable[str]) -> frozenset[str]:
    """Request keys naming a reserved ``__ow_*`` property or a final (immutable) parameter."""
    return arguments.request_keys & (RESERVED | frozenset(final_keys))


def cors_headers(request_headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """The automatic CORS headers; Allow-Headers echoes the preflight's request."""
    asked = next(
        (v for k, v in request_headers.items() if k.lower() == "access-control-request-headers"),
        None,
    )
    return [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Allow-Methods", ALLOW_METHODS),
        ("Access-Control-Allow-Headers", DEFAULT_ALLOW_HEADERS if asked is None else asked),
    ]


def options_response(request_headers: Mapping[str, str]) -> WebResponse:
    """OPTIONS without ``web-custom-options``: 200, empty, the action is not invoked."""
    return WebResponse(200, cors_headers(request_headers), b"")


def error_response(status: int, message: str, transaction_id: str) -> WebResponse:
    # Spaced, unlike the REST API's compact errors: WebActions.scala terminates web requests
    # with its pretty JSON printer (``terminate(...)(transid, jsonPrettyPrinter)``).
    body = json.dumps(error_document(message, transaction_id), ensure_ascii=False)
    return WebResponse(status, [("Content-Type", JSON_TYPE)], body.encode())


def not_ready_response(transaction_id: str, activation_id: str) -> WebResponse:
    response = error_response(202, NOT_READY, transaction_id)
    return WebResponse(
        202, [(ACTIVATION_ID_HEADER, activation_id), *response.headers], response.body
    )


class _Reject(Exception):
    """A result that cannot become the requested media type; carries the 4xx to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def render_result(
    extension: str,
    status: str,
    result: Any,
    *,
    transaction_id: str,
    activation_id: str | None = None,
) -> WebResponse:
    """The HTTP answer for a finished activation; ``extension`` without the dot."""
    if status == SUCCESS:
        response = _transcode(extension, result, transaction_id)
    elif status == APPLICATION_ERROR:
        if isinstance(result, dict) and "error" in result:
            response = _transcode(extension, result["error"], transaction_id)
        else:
            response = error_response(404, PROPERTY_NOT_FOUND, transaction_id)
    else:  # developer or whisk error, timeouts included: nothing of the result leaks
        response = error_response(400, ERROR_PROCESSING, transaction_id)
    if activation_id is None:
        return response
    return WebResponse(
        response.status, [(ACTIVATION_ID_HEADER, activation_id), *response.headers], response.body
    )


def _transcode(extension: str, value: Any, transaction_id: str) -> WebResponse:
    try:
        if extension == "json":
            return _as_json(value)
        if extension == "html":
            return _as_markup(value, "html", "text/html", "text/html; charset=UTF-8")
        if extension == "svg":
            return _as_markup(value, "svg", "image/svg+xml", "image/svg+xml")
        if extension == "text":
            return _as_text(value)
        return _as_http(value)
    except _Reject as reject:
        return error_response(reject.status, reject.message, transaction_id)


def _invalid_media(media: str) -> _Reject:
    return _Reject(400, f"Response is not valid '{media}'.")


def _as_json(value: Any) -> WebResponse:
    if not isinstance(value, (dict, list)):
        raise _invalid_media("application/json")
    return WebResponse(200, [("Content-Type", "application/json")], dumps(value))


def _as_markup(value: Any, alias: str, media: str, content_type: str) -> WebResponse:
    if isinstance(value, dict):
        value = value.get("body", value.get(alias))
    if not isinstance(value, str):
        raise _invalid_media(media)
    return WebResponse(200, [("Content-Type", content_type)], value.encode())


def _as_text(value: Any) -> WebResponse:
    if isinstance(value, dict):
        if "body" not in value and "text" not in value:
            raise _Reject(404, PROPERTY_NOT_FOUND)
        value = value["body"] if "body" in value else value["text"]
    if isinstance(value, str):
        text = value
    elif isinstance(value, (dict, list)):
        text = _pretty(value)
    else:
        text = json.dumps(value)  # true/false/null and numbers as JSON spells them
    return WebResponse(200, [("Content-Type", "text/plain; charset=UTF-8")], text.encode())


def _pretty(value: Any, indent: int = 0) -> str:
    """spray-json's PrettyPrinter: objects one member a line (2 spaces), arrays inline."""
    if isinstance(value, dict) and value:
        pad = " " * (indent + 2)
        members = ",\n".join(
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {_pretty(v, indent + 2)}"
            for k, v in value.items()
        )
        return "{\n" + members + "\n" + " " * indent + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_pretty(v, indent) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _as_http(value: Any) -> WebResponse:
    if not isinstance(value, dict):
        raise _invalid_media("message/http")
    headers = _result_headers(value.get("headers", MISSING))
    code = _status_code(value.get("statusCode", MISSING))
    body = value.get("body")
    if body is None or body == "":
        return _respond(204 if code is None else code, headers, None, b"")
    if isinstance(body, str):
        content_type, data = _string_entity(headers, body)
    else:
        content_type, data = _json_entity(headers, body)
    return _respond(200 if code is None else code, headers, content_type, data)


def _respond(
    code: int, headers: list[tuple[str, str]], content_type: str | None, body: bytes
) -> WebResponse:
    # The entity decides Content-Type: a header the action set is dropped, not repeated.
    kept = [(k, v) for k, v in headers if k.lower() != "content-type"]
    if code in _NO_BODY_CODES or content_type is None:
        return WebResponse(code, kept, b"")
    return WebResponse(code, [*kept, ("Content-Type", content_type)], body)


def _result_headers(value: Any) -> list[tuple[str, str]]:
    if value is MISSING:
        return []
    if not isinstance(value, dict):
        raise _invalid_media("message/http")
    headers: list[tuple[str, str]] = []
    for name, item in value.items():
        for element in item if isinstance(item, list) else [item]:
            if isinstance(element, bool):
                headers.append((name, "true" if element else "false"))
            elif isinstance(element, (str, int, float)):
                headers.append((name, str(element)))
            else:  # null, objects, nested arrays: not a header value
                raise _invalid_media("message/http")
    return headers


def _status_code(value: Any) -> int | None:
    if value is MISSING:
        return None
    if isinstance(value, bool):
        raise _invalid_media("message/http")
    if isinstance(value, float) and value.is_integer():
        code = int(value)
    elif isinstance(value, int):
        code = value
    elif isinstance(value, str) and _JAVA_INT.fullmatch(value):
        code = int(value)
    else:
        raise _invalid_media("message/http")
    # Upstream converts through the registry of known codes; others are rejected.
    if code not in _STATUS_CODES:
        raise _invalid_media("message/http")
    return code


def _declared_type(headers: list[tuple[str, str]]) -> str | None:
    return next((v for k, v in headers if k.lower() == "content-type"), None)


def _string_entity(headers: list[tuple[str, str]], body: str) -> tuple[str, bytes]:
    declared = _declared_type(headers)
    parsed = parse_media_type(declared if declared is not None else "text/html")
    if parsed is None:
        raise _Reject(400, UNKNOWN_CONTENT_TYPE)
    media, has_charset = parsed
    if is_binary(media, has_charset):
        return render_type(media, False), _decode_base64(body)
    if media.is_json:
        content_type = render_type(media, media.essence != "application/json")
        stripped = body.strip()
        # Legacy upstream: JSON sent base64-encoded is still decoded.
        if stripped and len(stripped) % 4 == 0 and _BASE64_LOOKING.fullmatch(stripped):
            return content_type, _decode_base64(body)
        return content_type, body.encode()
    return render_type(media, True), body.encode()


def _json_entity(headers: list[tuple[str, str]], body: Any) -> tuple[str, bytes]:
    declared = _declared_type(headers)
    parsed = parse_media_type(declared if declared is not None else "application/json")
    # Note: here even an unparseable type is a mismatch, not an unknown type (upstream).
    if parsed is None or not parsed[0].is_json:
        raise _Reject(400, CONTENT_TYPE_MISMATCH)
    media = parsed[0]
    if media.essence == "application/json":
        return "application/json", dumps(body)
    return render_type(media, True), _pretty(body).encode()


def _decode_base64(text: str) -> bytes:
    """Java's basic decoder: strict alphabet, padding optional."""
    if len(text) % 4 == 1:
        raise _Reject(400, CONTENT_TYPE_MISMATCH)
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _Reject(400, CONTENT_TYPE_MISMATCH) from exc
