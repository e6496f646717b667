"""What the platform says: log line format, result interpretation, error messages.

Pure: no I/O. The runner feeds it bytes and exit facts; the wording and status
choices follow OpenWhisk's invoker (``Messages``, ``ActivationResponse``, ``LogLine``).
"""

from __future__ import annotations

import re
import time

from localwhisk import codec
from localwhisk.models import APPLICATION_ERROR, DEVELOPER_ERROR, SUCCESS

MAX_RESULT_BYTES = 1024 * 1024
TRUNCATED_PREFIX_BYTES = 1024  # what a too-large or invalid result shows of itself

DID_NOT_RUN = "The action did not initialize or run as expected. Log data might be missing."
EXITED = "The action did not produce a valid response and exited unexpectedly."
NOT_A_DICT = "The action did not return a dictionary or array."
OUT_OF_MEMORY = "The action exhausted its memory and was aborted."
NO_INIT = "The action did not initialize and exited unexpectedly."
# The ActionLoop proxy's words (apache/openwhisk-runtime-go ``openwhisk/initHandler.go``,
# ``executor.go``, ``runHandler.go``; the Python images set OW_LOG_INIT_ERROR, so init
# failures say "see logs" and the cause goes to the logs).
NO_BINARY = "The action failed to generate or locate a binary. See logs for details."
START_FAILED = "Cannot start action. Check logs for details."
EXITED_DURING_INIT = "Command exited abruptly during initialization."
COMMAND_EXITED = "command exited"
# Runtimes built on that proxy: it outlives the action's process and answers for it, so
# the invoker passes its words on. Elsewhere the process is the container, and its death
# is the invoker's abnormalInitialization / abnormalRun (``Messages.scala``).
_PROXIED = frozenset({"python"})


def _proxied(kind: str) -> bool:
    return kind.partition(":")[0] in _PROXIED


def init_exit(kind: str) -> tuple[str, tuple[str, ...]]:
    """(result error, stderr lines after the process's own) when it dies during init."""
    if _proxied(kind):
        return START_FAILED, (EXITED_DURING_INIT,)
    return NO_INIT, ()


def run_exit(kind: str) -> str:
    """The result error when the process dies (or closes its result pipe) while running."""
    return COMMAND_EXITED if _proxied(kind) else EXITED


def invalid_init_response(text: str) -> str:
    """An init reply that is not a JSON object with an ``error`` (``invalidInitResponse``)."""
    return "The action failed during initialization" + (f": {text}" if text else ".")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _docker_time(ns: int) -> str:
    """Docker's RFC 3339 timestamp with nanoseconds, as OpenWhisk logs show it."""
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


def log_line(stream: str, text: str, ns: int | None = None) -> str:
    # OpenWhisk's LogLine.toFormattedString: time padded to 30, then the trimmed message.
    return f"{_docker_time(time.time_ns() if ns is None else ns):<30} {stream}: {text.strip()}"


# A reply line starting with this (never the start of JSON text) comes from a process that
# must not serve again (launcher.js): after it a JSON string is the runtime's own failure
# of the activation, anything else is the activation's result as usual.
FAILURE_MARK = b"!"


def outcome_for_result(data: bytes, size: int) -> tuple[str, object, bool]:
    """(status, result, keep the process) for one line read from fd 3."""
    reusable = not data.startswith(FAILURE_MARK)
    if not reusable:
        data, size = data[1:], size - 1
        try:
            message = codec.loads(data)
        except ValueError:
            message = None
        if isinstance(message, str):
            return DEVELOPER_ERROR, {"error": message}, False
    status, result, keep = _outcome(data, size)
    return status, result, keep and reusable


def _outcome(data: bytes, size: int) -> tuple[str, object, bool]:
    if size > MAX_RESULT_BYTES:
        trunk = data[:TRUNCATED_PREFIX_BYTES].decode("utf-8", "ignore")
        message = f"The action produced a response that exceeded the allowed length: {size} > {MAX_RESULT_BYTES} bytes. The truncated response was: {trunk}"
        return APPLICATION_ERROR, {"error": message}, True
    try:
        result = codec.loads(data)
    except ValueError:
        text = re.sub(r"\s+", " ", data.decode("utf-8", "replace"))[:TRUNCATED_PREFIX_BYTES]
        return (
            DEVELOPER_ERROR,
            {"error": f"The action did not produce a valid JSON or JSON Array response: {text}"},
            False,
        )
    if isinstance(result, dict):
        return (APPLICATION_ERROR if "error" in result else SUCCESS), result, True
    if isinstance(result, list):
        return SUCCESS, result, True
    return DEVELOPER_ERROR, {"error": NOT_A_DICT}, False
