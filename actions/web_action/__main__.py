"""The bundle's two web actions: ``main`` starts the worker, ``status`` reports on it.

``main`` (the web action ``test``) is a Python port of the guide's ``web-action.js``: it
starts the worker non-blocking through the OpenWhisk REST API and answers at once with
``{"activationId": …, "statusUrl": …}``, the URL also in ``Location``. ``status`` (the
web action ``status``, declared with ``main: status``) answers that URL: 202 while the
job runs, then its result (``jobstatus``). They share one folder so they share one
token format (``capability``) and one way of calling the API (``whiskapi``).

The worker's name is the bound parameter ``worker_action`` (the guide invoked ``worker``
but created ``my-worker``), the status action's ``status_action``. The caller's
parameters, minus the ``__ow_*`` request fields and these settings, are passed on to the
worker, so ``?duration_ms=2000`` starts a 2-second job. When the worker cannot be
started, the answer is an HTTP error with a message, within a bounded time.
"""

import os
import time

import capability
import jobstatus
from connections import TimedOut, Unreachable
from whiskapi import CONNECT_TIMEOUT_S, CONNECTIONS, READ_TIMEOUT_S, credentials, entity_url, reply

DEFAULT_WORKER = "my-worker"
DEFAULT_STATUS = "status"
SETTINGS = ("worker_action", "status_action")
__all__ = ["CONNECT_TIMEOUT_S", "READ_TIMEOUT_S", "main", "start_worker", "status"]


def worker_arguments(args):
    """The caller's parameters, without request metadata or this action's settings."""
    return {k: v for k, v in args.items() if not k.startswith("__ow_") and k not in SETTINGS}


def start_worker(args, environ, connections=CONNECTIONS, clock=time.time):
    """Start the worker non-blocking; return the web response (statusCode, headers, body)."""
    worker = str(args.get("worker_action") or DEFAULT_WORKER)
    found = credentials(environ)
    if isinstance(found, dict):
        return found
    api_host, namespace, auth = found
    try:
        response = connections.request(
            "POST",
            entity_url(api_host, namespace, "actions", worker),
            auth,
            params={"blocking": "false"},
            payload=worker_arguments(args),
        )
    except TimedOut as exc:
        return reply(
            504,
            {"error": f"the OpenWhisk API at {api_host} did not answer within {exc.seconds:g} s"},
        )
    except Unreachable as exc:
        return reply(502, {"error": f"cannot reach the OpenWhisk API at {api_host}: {exc.cause}"})
    activation_id, refused = interpret(response, worker, namespace)
    if refused:
        return refused
    # Taken once the platform accepted the job: it starts no earlier than this.
    token = capability.issue(
        environ["__OW_API_KEY"], namespace, worker, activation_id, int(clock() * 1000)
    )
    url = capability.status_url(
        args.get("__ow_headers"),
        environ,
        str(args.get("status_action") or DEFAULT_STATUS),
        token,
    )
    return reply(200, {"activationId": activation_id, "statusUrl": url}, {"Location": url})


def interpret(response, worker, namespace):
    """``(activation id, None)`` for an accepted start, else ``(None, the error answer)``."""
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    detail = payload.get("error") or response.reason or "no detail"
    if response.status == 202 and payload.get("activationId"):
        return str(payload["activationId"]), None
    if response.status in (401, 403):
        return None, reply(
            502, {"error": f"not allowed to invoke '{worker}' in namespace '{namespace}': {detail}"}
        )
    if response.status == 404:
        return None, reply(
            502,
            {"error": f"the worker action '{worker}' does not exist in namespace '{namespace}'"},
        )
    if response.status == 429:
        return None, reply(
            429, {"error": f"the platform is throttling invocations, try again later: {detail}"}
        )
    return None, reply(
        502, {"error": f"starting '{worker}' failed with HTTP {response.status}: {detail}"}
    )


def main(args):
    return start_worker(args, os.environ)


def status(args):
    return jobstatus.answer(args, os.environ)
