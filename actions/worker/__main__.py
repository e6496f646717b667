"""The long-running job: sleeps ``duration_ms`` and returns the guide's payload.

A Python port of the guide's ``worker.js`` (which waits 100 s). The duration is
a parameter so tests and demos need not wait 100 s; it must be declared with a
timeout above it (the manifest gives ``my-worker`` 120000 ms).
Standard library only, so it runs unchanged on OpenWhisk's Python runtime.
"""

import math
import time

DEFAULT_DURATION_MS = 100_000


def parse_duration(value):
    """Return the duration in seconds, or an error message for a bad value."""
    if isinstance(value, bool):  # bool is an int in Python; true/false is not a duration
        return None, f"duration_ms must be a number of milliseconds, got {value!r}"
    try:
        millis = float(value)
    except (TypeError, ValueError):
        return None, f"duration_ms must be a number of milliseconds, got {value!r}"
    if not math.isfinite(millis) or millis < 0:
        return None, f"duration_ms must be zero or more milliseconds, got {value!r}"
    return millis / 1000.0, None


def main(args):
    seconds, problem = parse_duration(args.get("duration_ms", DEFAULT_DURATION_MS))
    if problem:
        return {"error": problem}
    time.sleep(seconds)
    return {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}
