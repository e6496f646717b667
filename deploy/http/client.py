"""``OpenWhiskClient``: the OpenWhisk API as domain verbs over an HTTP session.

Domain verbs over one session returning plain dicts; 404 on a read is ``None``;
every other failure is an ``OpenWhiskError`` subclass naming method, URL, status and
the server's ``error``/``code``. Retries 429, 5xx and connection errors with
exponential backoff, jitter and ``Retry-After``; never other 4xx, never a POST
that may have reached the server, and never a refused connection to this machine
(nothing listens there: said at once). It does not decide what to write: ``apply`` calls
the mutating verbs, nothing else should.

Which session it gets, and what a session's failures mean, is ``sessions``'; a
caller may pass any object with a ``request``/``auth``/``headers`` of
``requests.Session``'s shape, as the unit tests do with ``requests_session`` under
``responses``.
"""

from __future__ import annotations

import base64
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from deploy.errors import (
    AuthError,
    ConflictError,
    ConnectError,
    NotFoundError,
    OpenWhiskError,
    ThrottledError,
)
from deploy.http.sessions import Failure, default_session, failure_of
from deploy.models import Artifact
from deploy.settings import Settings, is_loopback, mask

# The server's maximum list page: apache/openwhisk docs/rest_api.md, enforced by the
# controller's list directive (core/controller/.../controller/RestAPIs.scala).
PAGE = 200
MAX_RETRY_AFTER = 60.0  # seconds; a server asking for longer is treated as "give up soon"
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE", "HEAD"})
ACTIVATION_HEADER = "x-openwhisk-activation-id"
# The API gateway's route management web actions (apache/openwhisk core/routemgmt), at the
# paths openwhisk-client-go whisk/api.go and the npm client's lib/routes.js call.
APIMGMT = "/api/v1/web/whisk.system/apimgmt"
# What wsk (commands/api.go getAccessToken) and wskdeploy send when no gateway token is set.
GATEWAY_TOKEN = "DUMMY TOKEN"


@dataclass(frozen=True)
class Invocation:
    """What an invoke answered: 202 = still running / non-blocking, 200 ok, 502/500 failed."""

    status: int
    activation_id: str | None
    body: Any


class OpenWhiskClient:
    def __init__(
        self,
        settings: Settings,
        retries: int = 4,
        backoff: float = 0.5,
        session: Any = None,
        timeout: float = 75.0,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.retries = retries
        self.backoff = backoff
        # connect fast, but read long enough for a 60 s blocking invoke to answer
        self.timeout = (10.0, timeout)
        self._sleep = sleep
        self._jitter = jitter
        self.session = default_session(settings.apihost) if session is None else session
        user, _, key = settings.auth.partition(":")
        self.session.auth = (user, key)
        self.session.headers.update({"Accept": "application/json", "User-Agent": "owdeploy/0.1"})
        self.request_count = 0  # every HTTP attempt, retries included (benchmarks report it)
        self._count_lock = threading.Lock()

    # ---- reads -----------------------------------------------------------------------

    def server_info(self) -> dict[str, Any]:
        """``GET <apihost>/``: limits (ms, bytes) and runtimes."""
        return self._call("GET", f"{self.settings.apihost}/").json()

    def namespaces(self) -> list[str]:
        return self._call("GET", f"{self.settings.apihost}/api/v1/namespaces").json()

    def list(self, collection: str) -> list[dict[str, Any]]:
        """Every summary in the collection, page by page until a short page."""
        items: list[dict[str, Any]] = []
        skip = 0
        while True:
            page = self._call(
                "GET", self.url(collection), params={"limit": PAGE, "skip": skip}
            ).json()
            items.extend(page)
            if len(page) < PAGE:
                return items
            skip += PAGE

    def get(self, collection: str, name: str, **params: Any) -> dict[str, Any] | None:
        response = self._call(
            "GET", self.url(collection, name), params=_query(params), missing_ok=True
        )
        return None if response is None else response.json()

    def get_package_of(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Another namespace's package (``/whisk.system/utils``), or None when it is not
        there; a package not shared with us raises as any refused request does."""
        base = f"{self.settings.apihost}/api/v1/namespaces/{quote(namespace, safe='')}"
        response = self._call("GET", f"{base}/packages/{quote(name, safe='')}", missing_ok=True)
        return None if response is None else response.json()

    # ---- writes (apply only) -----------------------------------------------------------

    def put(
        self,
        collection: str,
        name: str,
        body: dict[str, Any],
        overwrite: bool = True,
        artifact: Artifact | None = None,
    ) -> dict[str, Any]:
        if artifact is not None:
            body = with_code(body, artifact)
        params = {"overwrite": "true" if overwrite else "false"}
        return _json_or_empty(
            self._call("PUT", self.url(collection, name), params=params, json=body)
        )

    def delete(self, collection: str, name: str) -> bool:
        """True if deleted, False if it was already gone."""
        return self._call("DELETE", self.url(collection, name), missing_ok=True) is not None

    # ---- API gateway routes (deploy.routes shapes the bodies) ----------------------------

    def list_routes(self) -> list[dict[str, Any]] | None:
        """The namespace's APIs (``getApi``'s ``apis``); None when the server has no API
        gateway (``whisk.system/apimgmt`` is not installed: 404)."""
        response = self._call(
            "GET", self._apimgmt("getApi"), params=self._gateway(), missing_ok=True, action=True
        )
        return None if response is None else (_json_or_empty(response).get("apis") or [])

    def create_route(self, body: dict[str, Any]) -> dict[str, Any]:
        """``createApi`` with the route's ``apidoc``, completed with the web action's URL
        and the key, as wskdeploy sends them (never kept in plans: they are the target's)."""
        apidoc = dict(body["apidoc"])
        action = dict(apidoc["action"])
        package, _, name = action["name"].rpartition("/")
        namespace = quote(action["namespace"], safe="")
        action["backendUrl"] = (
            f"{self.settings.apihost}/api/v1/web/{namespace}/"
            f"{quote(package or 'default', safe='')}/{quote(name, safe='')}.http"
        )
        action["authkey"] = self.settings.auth
        apidoc["action"] = action
        params = {**self._gateway(), "responsetype": body["responsetype"]}
        response = self._call(
            "POST", self._apimgmt("createApi"), params=params, json={"apidoc": apidoc}, action=True
        )
        return _json_or_empty(response)

    def delete_route(self, body: dict[str, Any]) -> bool:
        """``deleteApi`` for one operation; False when it was already gone."""
        apidoc = body["apidoc"]
        params = {
            **self._gateway(),
            "basepath": apidoc["gatewayBasePath"],
            "relpath": apidoc["gatewayPath"],
            "operation": apidoc["gatewayMethod"],
        }
        try:
            self._call("DELETE", self._apimgmt("deleteApi"), params=params, action=True)
        except OpenWhiskError as exc:
            if exc.status == 502 and "does not exist" in exc.text:
                return False
            raise
        return True

    def _apimgmt(self, name: str) -> str:
        return f"{self.settings.apihost}{APIMGMT}/{name}.http"

    def _gateway(self) -> dict[str, str]:
        """The gateway tenant is the key's UUID (``spaceguid``, as wsk and wskdeploy send)."""
        return {"accesstoken": GATEWAY_TOKEN, "spaceguid": self.settings.auth.partition(":")[0]}

    def set_rule_status(self, name: str, status: str) -> None:
        self._call("POST", self.url("rules", name), json={"status": status})

    # ---- day two -----------------------------------------------------------------------

    def invoke(
        self,
        name: str,
        params: dict[str, Any] | None = None,
        blocking: bool = False,
        result: bool = False,
    ) -> Invocation:
        query = {"blocking": _flag(blocking), "result": _flag(result)}
        response = self._call(
            "POST",
            self.url("actions", name),
            params=query,
            json=params or {},
            activation_outcome=True,
        )
        activation_id = response.headers.get(ACTIVATION_HEADER)
        body = _json_or_empty(response)
        if activation_id is None and isinstance(body, dict):
            activation_id = body.get("activationId")
        return Invocation(response.status_code, activation_id, body)

    def fire(self, trigger: str, params: dict[str, Any] | None = None) -> str | None:
        """The trigger activation id, or None when no rule is active (204)."""
        response = self._call("POST", self.url("triggers", trigger), json=params or {})
        if response.status_code == 204:
            return None
        return _json_or_empty(response).get("activationId")

    def activation(self, activation_id: str) -> dict[str, Any] | None:
        return self.get("activations", activation_id)

    def activation_result(self, activation_id: str) -> dict[str, Any] | None:
        return self.get("activations", f"{activation_id}/result")

    def activation_logs(self, activation_id: str) -> dict[str, Any] | None:
        return self.get("activations", f"{activation_id}/logs")

    # ---- plumbing ----------------------------------------------------------------------

    def url(self, collection: str, name: str | None = None) -> str:
        """Percent-encode each segment; ``pkg/name`` keeps its slash."""
        ns = quote(self.settings.namespace, safe="")
        base = f"{self.settings.apihost}/api/v1/namespaces/{ns}/{collection}"
        if name is None:
            return base
        return base + "/" + "/".join(quote(part, safe="") for part in name.split("/"))

    def _call(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        missing_ok: bool = False,
        activation_outcome: bool = False,
        action: bool = False,
    ) -> Any:
        attempts = self.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            with self._count_lock:
                self.request_count += 1
            try:
                response = self.session.request(
                    method, url, params=params, json=json, timeout=self.timeout
                )
            except Exception as exc:
                failure = failure_of(exc)
                if failure is None:
                    raise
                # A POST that may have reached the server (read timeout, connection reset
                # after sending) may have run the action: do not run it twice. A refusal
                # from this very machine is not transient (no network between, nothing
                # listens): said at once, where a remote host's is retried (a restart).
                retryable = method in IDEMPOTENT or failure.never_sent
                if failure.refused and is_loopback(self.settings.apihost):
                    retryable = False
                if retryable and not last:
                    self._sleep(self._delay(attempt, None))
                    continue
                raise self._connect_error(method, url, failure) from None
            status = response.status_code
            if (
                activation_outcome
                and status in (200, 202, 500, 502)
                and ACTIVATION_HEADER in response.headers
            ):
                return response  # the action ran (or is running): an outcome, not an HTTP error
            if status < 400:
                return response
            if status == 404 and missing_ok:
                return None
            # A web action's 502 is its own error answer (route management refusing a
            # route): asking again gets the same answer.
            retry = status == 429 or (status >= 500 and not (action and status == 502))
            if retry and not last:
                self._sleep(self._delay(attempt, response.headers.get("Retry-After")))
                continue
            raise self._http_error(method, url, response)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        wait = _parse_retry_after(retry_after)
        if wait is not None:
            return min(wait, MAX_RETRY_AFTER)
        base = self.backoff * (2**attempt)
        return base / 2 + self._jitter() * base / 2  # "equal jitter": never 0, never synchronised

    def _display_url(self, url: str) -> str:
        return mask(url, self.settings)

    def _http_error(self, method: str, url: str, response: Any) -> OpenWhiskError:
        status = response.status_code
        text, code = _error_text(response)
        text = mask(text, self.settings)
        shown = self._display_url(response.url or url)
        if status in (401, 403):
            hint = (
                f"check the API key (from {self.settings.source}): --auth, WHISK_AUTH, "
                "AIO_RUNTIME_AUTH or AUTH in .wskprops"
                if status == 401
                else f"the key is not allowed in namespace {self.settings.namespace!r}; check --namespace"
            )
            return AuthError(method, shown, status, text, code, hint)
        cls = {404: NotFoundError, 409: ConflictError, 429: ThrottledError}.get(
            status, OpenWhiskError
        )
        hint = (
            "the server kept throttling after every retry; wait a minute" if status == 429 else ""
        )
        return cls(method, shown, status, text, code, hint)

    def _connect_error(self, method: str, url: str, failure: Failure) -> ConnectError:
        local = is_loopback(self.settings.apihost)
        if local:
            hint = "is the local server running? `make up`"
        else:
            hint = "check --apihost / WHISK_APIHOST"
        if failure.refused and local:
            parts = urlsplit(self.settings.apihost)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            reason = f"connection refused: nothing listens on {parts.hostname}:{port}"
            hint = (
                "start localwhisk with `make up`"
                if self.settings.is_local_default
                else f"start it (localwhisk: `make up`), or check the apihost given by {self.settings.source}"
            )
        elif failure.timed_out:
            reason = f"no answer from {self.settings.apihost} within {self.timeout[1]:g} s"
        elif method not in IDEMPOTENT and not failure.never_sent:
            reason = (
                f"the connection to {self.settings.apihost} broke after the request was sent "
                f"({failure.cause}); not retried, as the server may have carried it out"
            )
            hint = "check its activations before running it again"
        else:
            reason = f"cannot reach {self.settings.apihost}: {failure.cause}"
        return ConnectError(
            method, self._display_url(url), None, mask(reason, self.settings), None, hint
        )


def with_code(body: dict[str, Any], artifact: Artifact) -> dict[str, Any]:
    """The PUT body with ``exec.code`` filled: base64 for a zip, text for a single file."""
    code = (
        base64.b64encode(artifact.data).decode("ascii")
        if artifact.binary
        else artifact.data.decode("utf-8")
    )
    # Only ``exec`` gains a key, so only it is copied (a deep copy per PUT cost ~5% of it).
    return {**body, "exec": {**body.get("exec", {}), "code": code}}


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils  # rarely needed: a date in Retry-After

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_text(response: Any) -> tuple[str, str | None]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "error" in body:
        error = body["error"]
        return (error if isinstance(error, str) else str(error)), body.get("code")
    text = (response.text or "").strip().replace("\n", " ")
    return (text[:300] or response.reason or "no error text"), None


def _json_or_empty(response: Any) -> Any:
    if not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return {"text": response.text}


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _query(params: dict[str, Any]) -> dict[str, Any] | None:
    return {k: _flag(v) if isinstance(v, bool) else v for k, v in params.items()} or None
