"""Named sets of limits for ``--profile``: localwhisk's own, Adobe I/O Runtime's, Apache OpenWhisk's.

A profile is data: a ``Limits`` value and where its figures come from. ``__main__``
picks one and lets the limit flags override single fields. The per-action ranges
(timeout, memory, logs, concurrency) are ``whiskfacts.runtimes``', the table the deploy
tool's ``validate`` warns from; the rest are the platform's own here. ``default`` is
``config.Limits`` unchanged (no throttles, a laptop is not a shared cluster);
``adobe`` and ``openwhisk`` refuse what those platforms would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from localwhisk.config import MB, Limits
from whiskfacts.runtimes import ADOBE_LIMITS, OPENWHISK_LIMITS, Range


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    limits: Limits


def _per_action(ranges: dict[str, Range]) -> dict[str, int]:
    """``{"timeout": Range(100, 300000, 60000), ...}`` as ``Limits`` fields (``timeout_min``...)."""
    return {
        f"{name}_{end}": value
        for name, limit in ranges.items()
        for end, value in (("min", limit.low), ("max", limit.high), ("default", limit.default))
    }


# AdobeDocs/app-builder src/pages/guides/runtime_guides/system-settings.md: timeout
# 100 ms - 10,800,000 ms (default 60,000; blocking calls and web actions cut at 60 s),
# memory 128-4096 MB (default 256), logs 0-10 MB (default 10), container concurrency
# 1-500 (default 200), codeSize 22 MB, parameters, payload and result 1 MB, 6000
# invocations and 600 trigger fires per namespace and minute, 100 concurrent
# activations per namespace (429 above), sequences of at most 50 actions.
ADOBE = Limits(
    **_per_action(ADOBE_LIMITS),
    blocking_wait_ms=60_000,
    payload_bytes=MB,
    sequence_max=50,
    code_bytes=22 * MB,
    parameter_bytes=MB,
    invocations_per_minute=6000,
    concurrent_invocations=100,
    fires_per_minute=600,
)

# apache/openwhisk common/scala/src/main/resources/application.conf: time-limit 100 ms -
# 5 m (std 1 m), memory 128-512 m (std 256 m), log-limit 0-10 m (std 10 m),
# concurrency-limit 1-1, parameter-size-limit 1 m, exec-size-limit 48 m,
# activation.payload.max 1 m, controller max-wait-for-blocking-activation 60 s.
# Throttles: ansible/group_vars/all ``limits`` (the same in core/standalone's
# standalone.conf): 60 invocations and 60 fires per minute, 30 concurrent
# invocations, sequences of 50. (docs/reference.md prints 100 concurrent and 120 a
# minute; a deployment from the repository enforces the figures above.)
OPENWHISK = Limits(
    **_per_action(OPENWHISK_LIMITS),
    blocking_wait_ms=60_000,
    payload_bytes=MB,
    sequence_max=50,
    code_bytes=48 * MB,
    parameter_bytes=MB,
    invocations_per_minute=60,
    concurrent_invocations=30,
    fires_per_minute=60,
)

PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile("default", "localwhisk's own limits, no throttles", Limits()),
        Profile("adobe", "Adobe I/O Runtime's limits", ADOBE),
        Profile("openwhisk", "Apache OpenWhisk's default limits", OPENWHISK),
    )
}


def _mb(size: int) -> str:
    return f"{size // MB} MB" if size % MB == 0 else f"{size} bytes"


def _per(value: int, unit: str) -> str:
    return f"{value} {unit}" if value > 0 else f"no {unit} limit"


def describe(limits: Limits) -> str:
    """One line of the limits in force, for the server's start-up output."""
    parameters = _mb(limits.parameter_bytes) if limits.parameter_bytes else "unchecked"
    return (
        f"timeout {limits.timeout_min}-{limits.timeout_max} ms (default {limits.timeout_default}), "
        f"blocking calls cut at {limits.blocking_wait_ms} ms, "
        f"memory {limits.memory_min}-{limits.memory_max} MB (default {limits.memory_default}), "
        f"logs {limits.logs_min}-{limits.logs_max} MB, "
        f"code {_mb(limits.code_bytes)}, payload {_mb(limits.payload_bytes)}, "
        f"parameters {parameters}, sequences of {limits.sequence_max}, "
        f"{_per(limits.invocations_per_minute, 'invocations/min')}, "
        f"{_per(limits.concurrent_invocations, 'concurrent')}, "
        f"{_per(limits.fires_per_minute, 'fires/min')} per namespace"
    )
