"""Inert entity values (snake_case). No I/O, no wire shaping.

``namespace`` is the entity's path: ``guest`` or ``guest/pkg`` for a packaged
action, as OpenWhisk stores it. Parameters and annotations stay lists of
``{"key", "value"}`` dicts because that is their identity on the platform
(order and ``init`` flags survive a round trip).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

KeyValues = list[dict[str, Any]]

# An activation's response.status, and the statusCode each is stored with.
SUCCESS = "success"
APPLICATION_ERROR = "application error"
DEVELOPER_ERROR = "action developer error"
WHISK_ERROR = "whisk internal error"

STATUS_CODES = {SUCCESS: 0, APPLICATION_ERROR: 1, DEVELOPER_ERROR: 2, WHISK_ERROR: 3}

# A rule's status, as its trigger document records it.
ACTIVE = "active"
INACTIVE = "inactive"

# The version a new entity gets unless its put sets one (the platform's SemVer default).
FIRST_VERSION = "0.0.1"


def lookup(pairs: KeyValues, key: str, default: Any = None) -> Any:
    """Value of ``key`` in a key/value list (the last one wins, as on the platform)."""
    found = default
    for pair in pairs:
        if pair.get("key") == key:
            found = pair.get("value")
    return found


def truthy(value: Any) -> bool:
    """An annotation's flag as the platform reads it: ``true`` or the string ``"true"``."""
    return value is True or (isinstance(value, str) and value.lower() == "true")


def as_dict(pairs: KeyValues) -> dict[str, Any]:
    return {p["key"]: p.get("value") for p in pairs if "key" in p}


@dataclass
class Entity:
    COLLECTION: ClassVar[str] = ""

    namespace: str
    name: str
    version: str = FIRST_VERSION
    publish: bool = False
    annotations: KeyValues = field(default_factory=list)
    updated: int = 0

    @property
    def fqn(self) -> str:
        """Fully qualified name with a leading slash: ``/guest/pkg/name``."""
        return f"/{self.namespace}/{self.name}"

    @property
    def root_namespace(self) -> str:
        return self.namespace.split("/", 1)[0]

    def annotation(self, key: str, default: Any = None) -> Any:
        return lookup(self.annotations, key, default)


@dataclass
class Action(Entity):
    COLLECTION: ClassVar[str] = "actions"

    exec: dict[str, Any] = field(default_factory=dict)  # kind, code, binary, main?, components?
    parameters: KeyValues = field(default_factory=list)
    limits: dict[str, int] = field(
        default_factory=dict
    )  # timeout ms, memory MB, logs MB, concurrency

    @property
    def kind(self) -> str:
        return str(self.exec.get("kind", ""))

    @property
    def package(self) -> str | None:
        parts = self.namespace.split("/", 1)
        return parts[1] if len(parts) == 2 else None


@dataclass
class Package(Entity):
    COLLECTION: ClassVar[str] = "packages"

    binding: dict[str, str] = field(default_factory=dict)  # {} or {"namespace", "name"}
    parameters: KeyValues = field(default_factory=list)

    @property
    def is_binding(self) -> bool:
        return bool(self.binding)


@dataclass
class Trigger(Entity):
    COLLECTION: ClassVar[str] = "triggers"

    parameters: KeyValues = field(default_factory=list)
    limits: dict[str, Any] = field(default_factory=dict)
    # "guest/rule" -> {"action": {"path", "name"}, "status": "active"|"inactive"}: the
    # trigger document owns rule status, as on the platform.
    rules: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Rule(Entity):
    COLLECTION: ClassVar[str] = "rules"

    trigger: dict[str, str] = field(default_factory=dict)  # {"path", "name"}
    action: dict[str, str] = field(default_factory=dict)


@dataclass
class Activation:
    activation_id: str
    namespace: str  # the invoking namespace
    name: str
    version: str
    subject: str
    start: int
    end: int = 0  # 0 for trigger activations and while running
    status: str = SUCCESS
    result: Any = None
    size: int | None = None
    logs: list[str] = field(default_factory=list)
    annotations: KeyValues = field(default_factory=list)
    publish: bool = False
    cause: str | None = None
    entity_key: str = ""  # what the `name` filter matches: "name" or "pkg/name"
    running: bool = False
    # Kept for the dashboard only, never in a REST answer (activations.activation_json lists
    # what clients see): the action's kind, and what started it: {"by": activation id,
    # "via": "api" | "rule" | "sequence", "rule": name}. Stored with the record.
    trace: dict[str, Any] = field(default_factory=dict)

    @property
    def status_code(self) -> int:
        return STATUS_CODES.get(self.status, 3)

    @property
    def success(self) -> bool:
        return self.status == SUCCESS


@dataclass
class LogForwarding:
    """Where a namespace's activation logs go, as Adobe I/O Runtime keeps it per namespace.

    ``settings`` holds the destination's plain fields only: secrets (keys, tokens) are
    never kept, since localwhisk forwards nothing and the platform never returns them.
    ``updated_at`` is an ISO 8601 time, empty while the namespace keeps the default.
    """

    namespace: str
    destination: str
    settings: dict[str, str] = field(default_factory=dict)
    updated_at: str = ""


ENTITY_TYPES: dict[str, type[Entity]] = {
    cls.COLLECTION: cls for cls in (Action, Package, Trigger, Rule)
}


@dataclass
class GatewayApi:
    """One API of the API gateway: the routes under one base path of a namespace.

    ``doc`` is its OpenAPI 2.0 ("swagger") document as the route management actions
    build it (apache/openwhisk ``core/routemgmt/common/apigw-utils.js``), which is
    also what clients read back; the gateway's routing table is derived from it.
    ``base_path`` is the key: ``/club`` (no trailing slash; ``/`` for the root).
    """

    namespace: str
    base_path: str
    api_id: str
    doc: dict[str, Any] = field(default_factory=dict)
    updated: int = 0
