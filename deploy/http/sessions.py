"""Which HTTP session a client talks through, and what its failures mean.

The standard-library ``transport.HttpSession`` by default (fast to import, cheap per
request); a ``requests.Session`` when a proxy is configured, since requests handles
proxies, ``no_proxy`` and CONNECT. The only module importing requests. Whichever
session is in use, ``failure_of`` turns its connection errors into one ``Failure``
so ``client`` applies one retry policy: safe to resend only what never left.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NamedTuple

from deploy.http.transport import HttpSession, TransportError

POOL = 32  # connections kept per host: the most useful --parallelism
# Variables requests (and curl) take a proxy from; any of them set hands HTTP to requests.
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy"})


def default_session(apihost: str, environ: Any = None) -> Any:
    """The standard-library transport, or requests when a proxy is configured."""
    environ = os.environ if environ is None else environ
    if any(v and k.lower() in PROXY_VARIABLES for k, v in environ.items()):
        return requests_session(apihost)
    # The CA bundles requests would use (its variables, then certifi's), so trust is unchanged.
    bundle = environ.get("REQUESTS_CA_BUNDLE") or environ.get("CURL_CA_BUNDLE")
    return HttpSession(apihost, verify=bundle or True)


def requests_session(apihost: str) -> Any:
    """A ``requests.Session`` set up for one host: pooled for ``--parallelism``, environment
    read once (requests re-reads proxy and CA variables from ``os.environ`` on every
    request, about a quarter of a PUT's client CPU; the answer cannot change within a run).
    ``.netrc`` is not lost: requests consults it only for sessions without auth."""
    import requests

    session = requests.Session()
    # apply runs up to `--parallelism` requests at once; urllib3 keeps 10 per host by default
    adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=POOL)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.proxies.update(requests.utils.get_environ_proxies(apihost))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False
    return session


class Failure(NamedTuple):
    """A connection failure, whichever transport reported it."""

    never_sent: bool  # nothing reached the server: safe to retry even a POST
    timed_out: bool  # sent, and no answer within the read timeout
    cause: str  # the underlying error's name, for the message
    refused: bool = False  # the host answered that nothing listens on the port


def failure_of(exc: Exception) -> Failure | None:
    """``exc`` as a connection failure, or None when it is something else (a bug)."""
    if isinstance(exc, TransportError):
        return Failure(not exc.sent, exc.timed_out, exc.cause_name, exc.refused)
    requests = sys.modules.get("requests")  # imported iff a requests session is in use
    if requests is None or not isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return None
    return Failure(
        _never_sent(exc), isinstance(exc, requests.ReadTimeout), type(exc).__name__, _refused(exc)
    )


def _refused(exc: BaseException) -> bool:
    """Is a ``ConnectionRefusedError`` inside requests' wrapping? requests puts urllib3's
    MaxRetryError in ``args``, whose ``reason`` is a NewConnectionError raised from the
    socket's error."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain is three deep; bounded in case of a cycle
        if seen is None:
            return False
        if isinstance(seen, ConnectionRefusedError):
            return True
        inner = seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None
        seen = inner or getattr(seen, "reason", None) or seen.__cause__
    return False


def _never_sent(exc: Exception) -> bool:
    """Did requests fail before any byte reached the server (refused, connect timeout)?"""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    # urllib3 wraps connect failures (NewConnectionError is one) in MaxRetryError; a reset
    # or a dropped connection while waiting for the answer comes as ProtocolError instead.
    return isinstance(cause, MaxRetryError) and isinstance(cause.reason, ConnectTimeoutError)
