"""The contract between the invoker and the runner: one job in, one outcome out.

Inert values only. ``invoker`` fills a ``RunJob`` from an action and an
activation; ``runner`` returns a ``RunOutcome`` whose status is one of
``models``' activation statuses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CodeSpec:
    """What identifies a runnable version of an action: a new value means new processes."""

    action: str  # "/ns/pkg/name": fully qualified, leading slash
    revision: str  # changes on every update of the action (e.g. its `updated` stamp + version)
    kind: str  # "python:3.11", ...
    code: str  # source text, or base64 zip when binary ("" when ``fetch`` gives it)
    binary: bool
    main: str = "main"
    init_env: dict[str, str] = field(default_factory=dict)  # parameters marked init: true
    # Reads the code when a process needs it laid out: megabytes of it need not stay in
    # memory for every action that ever ran.
    fetch: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    def source(self) -> str:
        return self.fetch() if self.fetch is not None else self.code


@dataclass(frozen=True)
class RunJob:
    code: CodeSpec
    params: dict[str, Any] | list[Any]  # the arguments (merged parameters); in a sequence,
    # the previous component's array result as it is
    # The /run envelope fields other than value: namespace, action_name, action_version,
    # activation_id, transaction_id, deadline, and api_key only when provide-api-key allows.
    context: dict[str, str]
    timeout_ms: int
    memory_mb: int
    logs_mb: int
    api_host: str  # __OW_API_HOST, fixed per process as a container env var would be


@dataclass(frozen=True)
class RunOutcome:
    status: str  # one of SUCCESS .. WHISK_ERROR
    result: Any  # dict or list; on any error {"error": ...}
    logs: list[str]  # "<ts padded to 30> stdout: line", already cut at the logs limit
    start_ms: int  # epoch ms when the run began (after any wait for a process)
    end_ms: int
    init_ms: int | None = None  # set on a cold start only
    wait_ms: int = 0  # time queued for a free process
    timed_out: bool = False
    size: int | None = None  # byte length of the raw result
