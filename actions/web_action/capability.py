"""The status URL as a capability: the worker's activation id and start time, signed.

An activation has no record until it ends (the REST API answers 404 while it runs), so
from an id alone "running" and "unknown" look the same. The starting web action therefore
hands out ``<activation id>.<start, epoch ms>.<signature>``, and the status web action
answers only ids that verify: a running job is known to be running, and any other id is
refused without a word about it.

The signing key is derived (HMAC-SHA256 over a fixed label) from the namespace's API key,
which both actions are given by ``provide-api-key``: nothing to configure, nothing that
deploy tools could print, and rotating the namespace key retires every issued URL. The
key itself appears nowhere: not in a URL, an answer or a log. The signed message names
the namespace and the worker, so a URL issued by one bundle means nothing to another
bundle's status action in the same namespace. ``actions/nodejs/web_action.js`` implements
the same token byte for byte; the tests pin both to one vector.
"""

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, urlsplit

LABEL = b"owasync status URL signing key v1"
SIGNATURE_BYTES = 16  # 128 bits: a forgery takes 2**128 guesses, each a web request
# <activation id>.<start, epoch ms>.<signature: base64url of 16 bytes, unpadded>
TOKEN = re.compile(r"([0-9a-f]{32})\.(0|[1-9][0-9]{0,15})\.([A-Za-z0-9_-]{22})")
WELL_FORMED = re.compile(r"[0-9A-Za-z._-]{1,200}")
IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
# A Host or X-Forwarded-Host value this action will put into a URL: a name or an address
# and an optional port, nothing else (no path, user or spaces). Each character has one
# place to match, so a hostile header cannot make the match slow.
HOST = re.compile(
    r"(?:[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?"
)


def signing_key(api_key):
    return hmac.new(api_key.encode("utf-8"), LABEL, hashlib.sha256).digest()


def _signature(key, namespace, worker, activation_id, start_ms):
    message = "\n".join(("status", namespace, worker.strip("/"), activation_id, str(start_ms)))
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).decode("ascii").rstrip("=")


def issue(api_key, namespace, worker, activation_id, start_ms):
    """The ``id`` of a status URL for the worker activation started at ``start_ms``."""
    activation_id = activation_id.lower()
    start_ms = int(start_ms)
    sig = _signature(signing_key(api_key), namespace, worker, activation_id, start_ms)
    return f"{activation_id}.{start_ms}.{sig}"


def is_well_formed(value):
    """False for what no status URL could carry (answer 400); True does not mean valid."""
    return isinstance(value, str) and WELL_FORMED.fullmatch(value) is not None


def verify(token, api_key, namespace, worker):
    """``(activation_id, start_ms)`` when this bundle issued ``token``; None otherwise."""
    match = TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        return None
    activation_id, start_ms = match.group(1), int(match.group(2))
    expected = _signature(signing_key(api_key), namespace, worker, activation_id, start_ms)
    # Constant time, so a signature cannot be found byte by byte from answer times.
    if not hmac.compare_digest(expected.encode(), match.group(3).encode()):
        return None
    return activation_id, start_ms


def _first(value):
    """The first of a comma-separated header value (proxies append: ``a, b``)."""
    return value.split(",")[0].strip() if isinstance(value, str) else ""


def public_base(headers, environ):
    """``scheme://host`` as the caller reached the platform.

    The platform passes the request's headers in ``__ow_headers`` (names lower case,
    apache/openwhisk WebActions.scala). ``X-Forwarded-Host`` first: Adobe I/O Runtime's
    edge sets it (adobe/helix-universal src/openwhisk-adapter.js builds the request URL
    from it). Then ``Host``, unless it is a single-label name other than localhost: an
    nginx in front of the controller sends its upstream's name (``controllers`` in
    apache/openwhisk ansible/roles/nginx/templates/nginx.conf.j2), which no caller can
    reach. Last, ``__OW_API_HOST``. The scheme is ``X-Forwarded-Proto``'s, else the API
    host's, else https.
    """
    api = urlsplit(environ.get("__OW_API_HOST") or "")
    scheme = _first(headers.get("x-forwarded-proto")).lower()
    if scheme not in ("http", "https"):
        scheme = api.scheme if api.scheme in ("http", "https") else "https"
    for candidate in (_first(headers.get("x-forwarded-host")), _first(headers.get("host"))):
        if (
            len(candidate) <= 260
            and HOST.fullmatch(candidate)
            and _reachable(urlsplit(f"//{candidate}").hostname or "")
        ):
            return f"{scheme}://{candidate}"
    return f"{scheme}://{api.netloc}" if api.netloc else f"{scheme}://localhost"


def _reachable(hostname):
    """A dotted name, an address or localhost; not a lone upstream name such as ``controllers``."""
    return "." in hostname or ":" in hostname or hostname == "localhost"


def _named_after(host, namespace):
    """Is ``host`` ``<namespace>.<domain>`` (and not an address such as 127.0.0.1)?"""
    if IPV4.fullmatch(host) or ":" in host:
        return False
    prefix = namespace.lower() + "."
    return host.startswith(prefix) and "." in host[len(prefix) :]


def status_url(headers, environ, status_action, token):
    """The absolute URL of ``status?id=<token>``, beside this web action.

    Namespace and package come from ``__OW_ACTION_NAME`` (``/ns/pkg/action`` or
    ``/ns/action``). On a host named after the namespace (Adobe's
    ``https://<ns>.adobeioruntime.net/api/v1/web/<pkg>/<action>``, aio-lib-runtime's
    ``getActionUrls``) the namespace is left out of the path, as that host expects.
    """
    parts = [p for p in (environ.get("__OW_ACTION_NAME") or "").split("/") if p]
    namespace = parts[0] if parts else environ.get("__OW_NAMESPACE") or "_"
    package = parts[1] if len(parts) == 3 else "default"
    name = status_action.strip("/")
    if "/" in name:
        package, name = name.split("/", 1)
    base = public_base(headers or {}, environ)
    path = "/".join(quote(p, safe="") for p in (package, name))
    if _named_after(urlsplit(base).hostname or "", namespace):
        return f"{base}/api/v1/web/{path}?id={token}"
    return f"{base}/api/v1/web/{quote(namespace, safe='')}/{path}?id={token}"
