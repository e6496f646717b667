"""Which Host names and browser origins the server answers: the DNS-rebinding and CORS gate.

localwhisk runs next to a browser and its guest key is public, so any page the
developer visits could drive the REST API. Two checks stop that: the ``Host``
header must name this server (a rebinding page's own name resolving to 127.0.0.1
fails), and a REST request that carries an ``Origin`` must come from this server
itself or from an origin given with ``--allow-origin``, which alone get CORS grants.
Private-network preflights are never granted. Web actions keep the platform's open
CORS (``docs/webactions.md`` in apache/openwhisk); they are not gated here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from localwhisk.errors import MisdirectedRequest, OriginRefused, PrivateNetworkRefused

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# The methods and headers the platform grants (CorsSettings.scala in apache/openwhisk).
ALLOW_METHODS = b"GET, DELETE, POST, PUT, HEAD"
ALLOW_HEADERS = b"Authorization, Origin, X-Requested-With, Content-Type, Accept, User-Agent"
SHOWN_MAX = 100  # echoed Host or Origin values are cut to this many characters


def split_host(value: str) -> tuple[str, str | None] | None:
    """``name[:port]`` or ``[v6][:port]`` -> (lower-case name, port or None); None if malformed."""
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[: end + 1], value[end + 1 :]
        if rest and not rest.startswith(":"):
            return None
        port = rest[1:] if rest else None
    else:
        name, sep, port_text = value.partition(":")
        port = port_text if sep else None
    if not name or (port is not None and not port.isdigit()):
        return None
    return name, port


def host_name(value: str) -> str:
    """A bind address or ``--allow-host`` value as it appears in a Host header (v6 bracketed)."""
    value = value.strip().lower()
    try:
        if ipaddress.ip_address(value).version == 6:
            return f"[{value}]"
    except ValueError:
        pass
    parts = split_host(value)
    if parts is None or "/" in parts[0]:
        raise ValueError(f"{value!r} is not a host name or address (expected e.g. my-laptop.lan)")
    return parts[0]


def origin_of(value: str) -> str:
    """An ``--allow-origin`` value as browsers send it: ``scheme://host[:port]``, no path."""
    text = value.strip().rstrip("/").lower()
    parts = urlsplit(text)
    if text == "*" or parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
        raise ValueError(
            f"{value!r} is not an origin (expected scheme://host[:port], e.g. http://localhost:5173)"
        )
    return text


def _shown(value: str) -> str:
    return value if len(value) <= SHOWN_MAX else value[:SHOWN_MAX] + "…"


@dataclass(frozen=True)
class OriginPolicy:
    hosts: frozenset[str]  # names a Host header may carry (any port)
    origins: frozenset[str]  # origins granted CORS on the REST API
    example: str  # the URL to suggest when a Host is refused

    @classmethod
    def of(cls, bound_host: str, url: str, hosts: Iterable[str], origins: Iterable[str]):
        names = {*LOOPBACK_NAMES, host_name(bound_host), *(host_name(h) for h in hosts)}
        return cls(frozenset(names), frozenset(origin_of(o) for o in origins), url)

    def check_host(self, host: str | None) -> None:
        # No Host at all cannot come from a browser (every browser sends one), so raw
        # HTTP/1.0 tools keep working; a Host naming anything else is refused.
        if host is None:
            return
        parts = split_host(host)
        if parts is None or parts[0] not in self.hosts:
            raise MisdirectedRequest(_shown(host), self.example)

    def admit(self, headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
        """The CORS headers a REST request earns; raises when a page may not use the API.

        ``headers``: lower-case names. Clients that are not browsers (wsk, the npm
        client, curl) send no Origin and get no CORS headers.
        """
        if headers.get("access-control-request-private-network", "").lower() == "true":
            raise PrivateNetworkRefused()
        origin = headers.get("origin")
        if origin is None:
            return []
        origin = origin.strip().lower()
        host = headers.get("host")
        if host is not None and origin == f"http://{host.strip().lower()}":
            return []  # the server's own pages (web actions): same origin needs no grant
        if origin not in self.origins:
            raise OriginRefused(_shown(origin))
        return [
            (b"access-control-allow-origin", origin.encode("latin-1")),
            (b"access-control-allow-methods", ALLOW_METHODS),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"vary", b"Origin"),
        ]
