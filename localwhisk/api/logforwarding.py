"""Adobe I/O Runtime's log forwarding settings, which Adobe's CLI reads before showing logs.

``aio rt activation logs ID`` first asks ``GET /runtime/namespaces/{ns}/logForwarding``
and gives up on any error; ``aio rt namespace log-forwarding`` reads and sets it. The
paths, bodies and destinations follow adobe/aio-lib-runtime (``src/LogForwarding.js``,
``src/LogForwardingLocalDestinationsProvider.js``): the body is ``{destination:
settings}`` with exactly one destination, an answer is the same shape with the time of
the change in ``updated_at``, and a namespace that never set one answers the default,
``adobe_io_runtime`` (AdobeDocs/app-builder ``application_logging/logging.md``).
That page also says the platform never returns configured secrets, so secret fields are
checked, then dropped: localwhisk forwards nothing and has no use for them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from localwhisk.api.common import namespace_of, read_object
from localwhisk.backend import Backend
from localwhisk.errors import MalformedRequest
from localwhisk.http import Request, Response, json_response
from localwhisk.models import LogForwarding
from localwhisk.platform.auth import Identity

DEFAULT_DESTINATION = "adobe_io_runtime"

# destination -> its settings in the client's order, and which of them are secrets
# (the client prompts for those as passwords).
DESTINATIONS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "adobe_io_runtime": ((), frozenset()),
    "azure_log_analytics": (("customer_id", "shared_key", "log_type"), frozenset({"shared_key"})),
    "splunk_hec": (("host", "port", "index", "hec_token"), frozenset({"hec_token"})),
    "new_relic": (("base_uri", "license_key"), frozenset({"license_key"})),
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a string"


def parse_forwarding(namespace: str, body: dict[str, Any]) -> LogForwarding:
    """The setting a PUT body asks for; 400 naming the field and what it expects.

    Values are never quoted back: some of them are secrets.
    """
    choices = ", ".join(DESTINATIONS)
    if len(body) != 1:
        raise MalformedRequest(
            f"expected exactly one log forwarding destination (one of {choices}), "
            f"got {len(body)}{': ' + ', '.join(sorted(body)) if body else ''}"
        )
    [(destination, settings)] = body.items()
    if destination not in DESTINATIONS:
        raise MalformedRequest(
            f"'{destination}' is not a log forwarding destination; expected one of {choices}"
        )
    fields, secrets = DESTINATIONS[destination]
    wanted = ", ".join(fields) or "none"
    if not isinstance(settings, dict):
        raise MalformedRequest(
            f"{destination}: expected an object of settings ({wanted}), got {_json_type(settings)}"
        )
    unknown = [key for key in settings if key not in fields]
    if unknown:
        raise MalformedRequest(
            f"{destination}: unknown setting(s) {', '.join(unknown)}; expected {wanted}"
        )
    missing = [key for key in fields if key not in settings]
    if missing:
        raise MalformedRequest(f"{destination}: missing setting(s) {', '.join(missing)}")
    for key in fields:
        value = settings[key]
        if not isinstance(value, str) or not value.strip():
            raise MalformedRequest(
                f"{destination}.{key}: expected a non-empty string, got {_json_type(value)}"
            )
    kept = {key: settings[key] for key in fields if key not in secrets}
    return LogForwarding(namespace, destination, kept, _now_iso())


def _now_iso() -> str:
    """UTC with milliseconds and an explicit offset, as the platform writes ``updated_at``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def current_forwarding(backend: Backend, namespace: str) -> LogForwarding:
    found = backend.store.get_log_forwarding(namespace)
    return found if found is not None else LogForwarding(namespace, DEFAULT_DESTINATION)


def forwarding_json(forwarding: LogForwarding) -> dict[str, Any]:
    settings: dict[str, Any] = dict(forwarding.settings)
    if forwarding.updated_at:
        settings["updated_at"] = forwarding.updated_at
    return {forwarding.destination: settings}


async def get_log_forwarding(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    forwarding = current_forwarding(backend, namespace_of(who, args))
    return json_response(200, forwarding_json(forwarding))


async def put_log_forwarding(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    forwarding = parse_forwarding(namespace_of(who, args), read_object(req))
    backend.store.put_log_forwarding(forwarding)
    return json_response(200, forwarding_json(forwarding))


async def get_forwarding_errors(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    """Errors met forwarding logs: none ever, since localwhisk keeps logs itself."""
    forwarding = current_forwarding(backend, namespace_of(who, args))
    return json_response(200, {"configured_forwarder": forwarding.destination, "errors": []})
