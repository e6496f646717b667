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
