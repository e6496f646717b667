"""Unauthenticated information (``GET /``, ``GET /api/v1``, the swagger) plus namespaces and limits."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any

from localwhisk.api.common import namespace_of
from localwhisk.backend import Backend
from localwhisk.config import MB, Limits
from localwhisk.http import Request, Response, json_response
from localwhisk.platform.auth import Identity
from localwhisk.runtime.kinds import manifest

API_INFO = {
    "description": "OpenWhisk API",
    "api_version": "1.0.0",
    "api_version_path": "v1",
    "build": "???",
    "buildno": "localwhisk",
    "swagger_paths": {"ui": "/docs", "api-docs": "/api-docs"},
}


def info_json(limits: Limits) -> dict[str, Any]:
    bounds = {
        "min_action_duration": limits.timeout_min,
        "max_action_duration": limits.timeout_max,
        "min_action_memory": limits.memory_min * MB,
        "max_action_memory": limits.memory_max * MB,
        "min_action_logs": limits.logs_min * MB,
        "max_action_logs": limits.logs_max * MB,
    }
    values = {
        "actions_per_minute": limits.invocations_per_minute,
        "triggers_per_minute": limits.fires_per_minute,
        "concurrent_actions": limits.concurrent_invocations,
        "sequence_length": limits.sequence_max,
        # The largest exec an action may have, in bytes (the platform's exec-size-limit:
        # apache/openwhisk application.conf, 48 m; Adobe's codeSize, 22 MB), so a deploy
        # tool can refuse an oversized zip before it uploads it.
        "max_action_code_size": limits.code_bytes,
        # GET / lists each action bound twice, with and without a ``default_`` prefix;
        # localwhisk has one set of bounds, so both carry it.
        **{f"default_{key}": value for key, value in bounds.items()},
        **bounds,
    }
    return {
        "description": "OpenWhisk",
        "support": {
            "github": "https://github.com/apache/openwhisk/issues",
            "slack": "http://slack.openwhisk.org",
        },
        "api_paths": ["/api/v1"],
        "limits": values,
        "runtimes": manifest(),
    }


async def info(
    backend: Backend, req: Request, who: Identity | None, args: dict[str, str]
) -> Response:
    return json_response(200, info_json(backend.settings.limits))


async def api_info(
    backend: Backend, req: Request, who: Identity | None, args: dict[str, str]
) -> Response:
    return json_response(200, API_INFO)


@lru_cache(maxsize=1)
def _swagger() -> bytes:
    return resources.files("localwhisk").joinpath("apiv1swagger.json").read_bytes()


async def api_docs(
    backend: Backend, req: Request, who: Identity | None, args: dict[str, str]
) -> Response:
    return Response(200, _swagger())


async def namespaces(
    backend: Backend, req: Request, who: Identity, args: dict[str, str]
) -> Response:
    return json_response(200, [who.namespace])


def limits_json(limits: Limits) -> dict[str, Any]:
    payload_mb = limits.payload_bytes // MB
    return {
        "invocationsPerMinute": limits.invocations_per_minute,
        "concurrentInvocations": limits.concurrent_invocations,
        "firesPerMinute": limits.fires_per_minute,
        "minActionMemory": limits.memory_min,
        "maxActionMemory": limits.memory_max,
        "minActionLogs": limits.logs_min,
        "maxActionLogs": limits.logs_max,
        "minActionTimeout": limits.timeout_min,
        "maxActionTimeout": limits.timeout_max,
        "minActionConcurrency": limits.concurrency_min,
        "maxActionConcurrency": limits.concurrency_max,
        "maxParameterSize": f"{payload_mb} MB" if payload_mb else f"{limits.payload_bytes} B",
        "maxActionInstances": limits.concurrent_invocations,
    }


async def limits(backend: Backend, req: Request, who: Identity, args: dict[str, str]) -> Response:
    namespace_of(who, args)
    return json_response(200, limits_json(backend.settings.limits))
