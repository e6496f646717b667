"""Basic authentication against the configured namespaces, and namespace entitlement.

Credentials are ``uuid:key`` as on OpenWhisk; keys are compared in constant time
and never logged. ``_`` in a path means the caller's own namespace.
"""

from __future__ import annotations

import binascii
import hmac
import re
from base64 import b64decode
from dataclasses import dataclass

from localwhisk.config import Namespace
from localwhisk.errors import AuthInvalid, AuthMissing, Forbidden

UUID_RE = re.compile(
    r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z"
)
KEY_LENGTH = 64


@dataclass(frozen=True)
class Identity:
    namespace: str
    uuid: str
    key: str

    @property
    def subject(self) -> str:
        return self.namespace

    @property
    def api_key(self) -> str:
        return f"{self.uuid}:{self.key}"


def parse_namespace_spec(spec: str) -> Namespace:
    """``NAME:UUID:KEY`` from the command line; raises ValueError naming the problem."""
    parts = spec.split(":")
    if len(parts) != 3 or not parts[0]:
        raise ValueError("expected NAME:UUID:KEY")
    name, uuid, key = parts
    if not UUID_RE.match(uuid):
        raise ValueError(f"namespace {name!r}: the UUID is not a UUID")
    if len(key) != KEY_LENGTH:
        raise ValueError(f"namespace {name!r}: the key must be {KEY_LENGTH} characters")
    return Namespace(name, uuid, key)


class Authenticator:
    def __init__(self, namespaces: tuple[Namespace, ...] | list[Namespace]) -> None:
        self._by_uuid = {ns.uuid: ns for ns in namespaces}
        self.namespaces = {ns.name for ns in namespaces}
        # Authorization header -> Identity: a client sends the same header on every call,
        # so the decode and comparison run once per distinct header.
        self._seen: dict[str, Identity] = {}

    def identify(self, authorization: str) -> Identity | None:
        """The identity the header proves, or None (missing or wrong credentials alike)."""
        if not authorization:
            return None
        known = self._seen.get(authorization)
        if known is not None:
            return known
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        uuid, sep, key = decoded.partition(":")
        ns = self._by_uuid.get(uuid)
        if not sep or ns is None or len(key) != KEY_LENGTH:
            return None
        if not hmac.compare_digest(ns.key.encode(), key.encode()):
            return None
        identity = Identity(ns.name, ns.uuid, ns.key)
        if len(self._seen) < 1024:
            self._seen[authorization] = identity
        return identity

    def identity_of(self, namespace: str) -> Identity | None:
        """The identity owning ``namespace`` (web actions run as their owner)."""
        for ns in self._by_uuid.values():
            if ns.name == namespace:
                return Identity(ns.name, ns.uuid, ns.key)
        return None

    def identity_of_uuid(self, uuid: str) -> Identity | None:
        """The identity whose key starts with ``uuid``: API gateway URLs name the
        namespace by it (``/api/<uuid>/...``, the gateway's tenant)."""
        ns = self._by_uuid.get(uuid)
        return Identity(ns.name, ns.uuid, ns.key) if ns is not None else None

    def authenticate(self, authorization: str) -> Identity:
        if not authorization:
            raise AuthMissing()
        identity = self.identify(authorization)
        if identity is None:
            raise AuthInvalid()
        return identity


def resolve_namespace(identity: Identity, namespace: str) -> str:
    """The namespace a path names; 403 for anyone else's."""
    if namespace == "_" or namespace == identity.namespace:
        return identity.namespace
    raise Forbidden()
