"""Server settings: one frozen value built by ``__main__`` from flags and environment.

Nothing here reads the environment; ``__main__`` does, in ``main()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from whiskfacts.guest import GUEST_KEY, GUEST_NAMESPACE, GUEST_UUID

MB = 1024 * 1024
# Code may be far bigger than arguments: OpenWhisk's exec-size-limit is 48 MB.
CODE_SIZE_LIMIT = 48 * MB


@dataclass(frozen=True)
class Limits:
    """What actions and namespaces may use: localwhisk's own defaults (``--profile default``).

    ``profiles`` holds the other sets (Adobe I/O Runtime's, Apache OpenWhisk's).
    """

    timeout_min: int = 100
    timeout_max: int = 10_800_000
    timeout_default: int = 60_000
    memory_min: int = 128
    memory_max: int = 2048
    memory_default: int = 256
    logs_min: int = 0
    logs_max: int = 10
    logs_default: int = 10
    concurrency_min: int = 1
    concurrency_max: int = 1
    concurrency_default: int = 1
    blocking_wait_ms: int = 60_000
    payload_bytes: int = MB
    sequence_max: int = 50
    code_bytes: int = CODE_SIZE_LIMIT  # an action's exec (code and main), as the platform sizes it
    parameter_bytes: int = 0  # an entity's parameters, and its annotations (0 = not checked)
    # Throttles; 0 switches one off (the local default: a laptop is not a shared cluster).
    invocations_per_minute: int = 0
    concurrent_invocations: int = 0
    fires_per_minute: int = 0


@dataclass(frozen=True)
class HttpBounds:
    """What one client may hold of the server: header bytes, time, connections."""

    # Node.js answers 431 past 16 KB and akka-http (OpenWhisk's controller) past 8 KB per
    # value; 64 KB in all leaves room for big cookies on web actions.
    max_header_bytes: int = 64 * 1024
    header_timeout_s: float = 10.0  # from connect (or the last answer) to the end of the headers
    keep_alive_timeout_s: float = 5.0  # idle between requests on one connection
    max_connections: int = 512  # __main__ derives it from the open-file limit


@dataclass(frozen=True)
class Namespace:
    name: str
    uuid: str
    key: str

    @property
    def auth(self) -> str:
        return f"{self.uuid}:{self.key}"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3233
    data_dir: Path = Path(".localwhisk/data")
    namespaces: tuple[Namespace, ...] = (Namespace(GUEST_NAMESPACE, GUEST_UUID, GUEST_KEY),)
    limits: Limits = field(default_factory=Limits)
    retention_days: float = 7.0  # 0 keeps activations forever
    api_host: str = ""  # what actions see as __OW_API_HOST; set once the port is bound
    isolation: str = "auto"  # --isolation: auto, bwrap or none (runtime.sandbox.choose)
    # Browser-facing policy of the REST API: origins granted CORS, extra Host names.
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    http: HttpBounds = field(default_factory=HttpBounds)
