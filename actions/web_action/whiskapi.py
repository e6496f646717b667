"""The OpenWhisk REST API as the bundle's web actions reach it, and the web answer shape.

What the platform gives every action: ``__OW_API_HOST``, ``__OW_NAMESPACE`` and, with
the annotation ``provide-api-key: true``, ``__OW_API_KEY`` (apache/openwhisk
docs/actions.md, "Accessing action metadata within the action body"). Calls go through
``connections``, bounded far below the 60 s synchronous cut; on a healthy platform they
answer in milliseconds.
"""

from urllib.parse import quote

from connections import CONNECT_TIMEOUT_S, READ_TIMEOUT_S, Connections

__all__ = ["CONNECTIONS", "CONNECT_TIMEOUT_S", "READ_TIMEOUT_S"]
# One set for the process: a warm action keeps its connection to the API between
# activations instead of opening one per call.
CONNECTIONS = Connections()


def reply(status, body, headers=None):
    """A web action result: the platform turns it into the HTTP answer (no extension)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "body": body,
    }


def credentials(environ):
    """``(api_host, namespace, (user, password))``, or the error answer when one is missing."""
    api_host = environ.get("__OW_API_HOST")
    namespace = environ.get("__OW_NAMESPACE") or "_"
    api_key = environ.get("__OW_API_KEY")
    if not api_host:
        return reply(500, {"error": "__OW_API_HOST is not set: this action must run on OpenWhisk"})
    if not api_key or ":" not in api_key:
        return reply(
            500,
            {
                "error": "__OW_API_KEY is not set: give this action the annotation provide-api-key: true"
            },
        )
    return api_host, namespace, tuple(api_key.split(":", 1))


def entity_url(api_host, namespace, collection, name):
    """``…/namespaces/{ns}/{collection}/{name}``; ``name`` may be ``pkg/name``."""
    path = "/".join(quote(part, safe="") for part in name.strip("/").split("/"))
    return (
        f"{api_host.rstrip('/')}/api/v1/namespaces/{quote(namespace, safe='')}/{collection}/{path}"
    )


def error_detail(response):
    """The API's ``error`` text, else the HTTP reason."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    detail = payload.get("error") if isinstance(payload, dict) else None
    return detail if isinstance(detail, str) and detail else response.reason or "no detail"
