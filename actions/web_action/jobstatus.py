"""The status web action: what became of a job that ``test`` started, in HTTP terms.

``…/status?id=<id from statusUrl>`` answers, as the Asynchronous Request-Reply pattern
does: 202 with ``Retry-After`` while the worker runs; 200 with the worker's result once
it succeeded; 502 with the activation's status and message when it failed, 504 when it
timed out (or when no record appeared within its time limit after the start); 400 for a
request no status URL makes; 404, saying nothing more, for any id this bundle did not
issue (an unknown or foreign activation, a bare id, a bad signature). The platform only
interprets ``statusCode``/``headers``/``body`` without an extension; ``.json`` returns
the result verbatim, so the result also says ``status`` at its top level.

It reads the worker's activation record through the REST API with its own key
(``provide-api-key``), bounded in time; an API that cannot be read is a 503 with
``Retry-After``, never a traceback. Nothing here logs, and the key appears in no answer.
"""

import math
import time

import capability
from connections import TimedOut, Unreachable
from whiskapi import CONNECTIONS, credentials, entity_url, error_detail, reply

DEFAULT_WORKER = "my-worker"
# A record may appear after the worker's own limit: queueing before it starts, its init,
# and the write of the record. This much past the limit, a missing record is a timeout.
GRACE_MS = 60_000
# When the worker's limit cannot be read: the longest any platform allows (Adobe I/O
# Runtime's 3 hours for non-blocking calls, its system-settings page).
LONGEST_LIMIT_MS = 10_800_000
NO_STORE = {"Cache-Control": "no-store"}
NOT_FOUND = "no job is known by this id"


class Unanswered(Exception):
    """The API could not tell; ``answer`` is what to say instead."""

    def __init__(self, answer):
        super().__init__(answer["body"]["error"])
        self.answer = answer


def answer(args, environ, connections=CONNECTIONS, clock=time.time):
    found = credentials(environ)
    if isinstance(found, dict):
        return found
    api_host, namespace, auth = found
    worker = str(args.get("worker_action") or DEFAULT_WORKER)
    token = args.get("id")
    if not capability.is_well_formed(token):
        return _answer(
            400,
            "invalid",
            {
                "error": "expected ?id=<id> exactly as the statusUrl that starting the job "
                f"answered carries, got {_shown(token)}"
            },
        )
    job = capability.verify(token, environ["__OW_API_KEY"], namespace, worker)
    if job is None:
        return _answer(404, "not found", {"error": NOT_FOUND})
    activation_id, start_ms = job
    api = Api(api_host, namespace, auth, connections)
    try:
        record = api.get("activations", activation_id)
        if record is None:
            return _missing(api, worker, max(0, int(clock() * 1000) - start_ms))
    except Unanswered as exc:
        return exc.answer
    if not _is_of(record, namespace, worker):
        return _answer(404, "not found", {"error": NOT_FOUND})
    return _finished(record, activation_id)


class Api:
    """GETs of one namespace's entities: the document, or None for 404; else ``Unanswered``."""

    def __init__(self, api_host, namespace, auth, connections):
        self.api_host, self.namespace, self.auth = api_host, namespace, auth
        self.connections = connections

    def get(self, collection, name, **params):
        url = entity_url(self.api_host, self.namespace, collection, name)
        try:
            response = self.connections.request("GET", url, self.auth, params=params)
        except TimedOut as exc:
            raise _unavailable(
                f"the OpenWhisk API at {self.api_host} did not answer within {exc.seconds:g} s"
            ) from None
        except Unreachable as exc:
            raise _unavailable(
                f"cannot reach the OpenWhisk API at {self.api_host}: {exc.cause}"
            ) from None
        if response.status == 404:
            return None
        if response.status == 200:
            try:
                document = response.json()
            except ValueError:
                document = None
            if isinstance(document, dict):
                return document
            raise _unavailable(f"the OpenWhisk API answered a {collection} read without JSON")
        if response.status in (401, 403):
            raise Unanswered(
                _answer(
                    500,
                    "error",
                    {
                        "error": f"this action may not read {collection} in namespace "
                        f"'{self.namespace}': {error_detail(response)}; give it the "
                        "annotation provide-api-key: true"
                    },
                )
            )
        retry = response.headers.get("Retry-After")
        raise _unavailable(
            f"the OpenWhisk API answered HTTP {response.status}: {error_detail(response)}",
            retry if retry and retry.isdigit() else "1",
        )


def _missing(api, worker, elapsed_ms):
    """No record yet: running, unless even the worker's time limit has long passed."""
    if elapsed_ms <= GRACE_MS:  # no limit is below 0, so no need to read it yet
        return _running(elapsed_ms)
    try:
        action = api.get("actions", worker, code="false")
    except Unanswered:
        action = None  # the limit is only needed for a verdict; wait as long as any allows
    limit = LONGEST_LIMIT_MS
    if action is not None:
        timeout = (action.get("limits") or {}).get("timeout")
        if isinstance(timeout, int) and timeout > 0:
            limit = timeout
    if elapsed_ms <= limit + GRACE_MS:
        return _running(elapsed_ms)
    return _answer(
        504,
        "timeout",
        {
            "error": f"the job left no record {_seconds(elapsed_ms)} after it started; "
            f"the worker's time limit is {_seconds(limit)}"
        },
    )


def _running(elapsed_ms):
    # Poll about ten times over what has passed so far: every second for a short job,
    # every minute at most for one of hours.
    retry = min(60, max(1, math.ceil(elapsed_ms / 10_000)))
    return _answer(202, "running", {}, {"Retry-After": str(retry)})


def _is_of(record, namespace, worker):
    """Is this activation the worker's? Its ``path`` annotation is the action's full name."""
    expected = worker.strip("/") if worker.startswith("/") else f"{namespace}/{worker.strip('/')}"
    for item in record.get("annotations") or []:
        if isinstance(item, dict) and item.get("key") == "path":
            return item.get("value") == expected
    return record.get("name") == expected.rsplit("/", 1)[-1]


def _finished(record, activation_id):
    response = record.get("response") or {}
    state = response.get("status")
    result = response.get("result")
    if state == "success":
        return {"status": "success", **reply(200, result, NO_STORE)}
    timed_out = any(
        isinstance(a, dict) and a.get("key") == "timeout" and a.get("value") is True
        for a in record.get("annotations") or []
    )
    error = result.get("error") if isinstance(result, dict) else None
    body = {"activationId": activation_id, "error": error if error is not None else result}
    if timed_out:
        return _answer(504, "timeout", body)
    return _answer(502, state if isinstance(state, str) and state else "failed", body)


def _answer(code, status, body=None, headers=None):
    """``status`` in the body and at the top, so ``.json`` (the result verbatim) says it too."""
    body = {"status": status, **(body or {})}
    return {"status": status, **reply(code, body, {**NO_STORE, **(headers or {})})}


def _unavailable(message, retry="1"):
    return Unanswered(_answer(503, "unavailable", {"error": message}, {"Retry-After": retry}))


def _seconds(millis):
    seconds = millis / 1000
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _shown(value):
    if value is None:
        return "no id"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
