"""The web action: starts the worker non-blocking and answers at once with its activation id.

A Python port of the guide's ``web-action.js``. It calls the OpenWhisk REST API
with ``requests`` (shipped by OpenWhisk's Python images), using what the
platform gives every action: ``__OW_API_HOST``, ``__OW_NAMESPACE`` and, because
the manifest sets ``provide-api-key: true``, ``__OW_API_KEY``.

The worker's name is the bound parameter ``worker_action`` (the guide invoked
``worker`` but created ``my-worker``). The caller's parameters, minus the
``__ow_*`` request fields and this action's own settings, are passed on to the
worker, so ``?duration_ms=2000`` starts a 2-second job. When the worker cannot
be started, the answer is an HTTP error with a message, within a bounded time.
"""

import os
from urllib.parse import quote

import requests

DEFAULT_WORKER = "my-worker"
SETTINGS = ("worker_action",)
# Connect and read bounds: far below the 60 s synchronous cut, and a non-blocking
# invoke answers in milliseconds on a healthy platform.
CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0


def reply(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def worker_arguments(args):
    """The caller's parameters, without request metadata or this action's settings."""
    return {k: v for k, v in args.items() if not k.startswith("__ow_") and k not in SETTINGS}


def invoke_url(api_host, namespace, worker):
    path = "/".join(quote(part, safe="") for part in worker.strip("/").split("/"))
    return f"{api_host.rstrip('/')}/api/v1/namespaces/{quote(namespace, safe='')}/actions/{path}"


def start_worker(args, environ, session=requests):
    """Start the worker non-blocking; return the web response (statusCode, body)."""
    worker = str(args.get("worker_action") or DEFAULT_WORKER)
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
    user, password = api_key.split(":", 1)
    url = invoke_url(api_host, namespace, worker)
    try:
        response = session.post(
            url,
            params={"blocking": "false"},
            json=worker_arguments(args),
            auth=(user, password),
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        )
    except requests.Timeout:
        return reply(
            504,
            {
                "error": f"the OpenWhisk API at {api_host} did not answer within {READ_TIMEOUT_S:g} s"
            },
        )
    except requests.RequestException as exc:
        return reply(
            502, {"error": f"cannot reach the OpenWhisk API at {api_host}: {type(exc).__name__}"}
        )
    return interpret(response, worker, namespace)


def interpret(response, worker, namespace):
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    detail = payload.get("error") or response.reason or "no detail"
    if response.status_code == 202 and payload.get("activationId"):
        return reply(200, {"activationId": payload["activationId"]})
    if response.status_code in (401, 403):
        return reply(
            502, {"error": f"not allowed to invoke '{worker}' in namespace '{namespace}': {detail}"}
        )
    if response.status_code == 404:
        return reply(
            502,
            {"error": f"the worker action '{worker}' does not exist in namespace '{namespace}'"},
        )
    if response.status_code == 429:
        return reply(
            429, {"error": f"the platform is throttling invocations, try again later: {detail}"}
        )
    return reply(
        502, {"error": f"starting '{worker}' failed with HTTP {response.status_code}: {detail}"}
    )


def main(args):
    return start_worker(args, os.environ)
