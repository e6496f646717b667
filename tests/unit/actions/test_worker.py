"""The worker sleeps the asked duration and returns the guide's payload; bad input is an app error."""

from __future__ import annotations

import time

import pytest


def test_worker_returns_the_guides_payload_after_the_duration(worker):
    started = time.monotonic()
    result = worker.main({"duration_ms": 50})
    assert time.monotonic() - started >= 0.05
    assert result == {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}


def test_worker_accepts_a_numeric_string_as_web_query_parameters_are_strings(worker):
    assert worker.main({"duration_ms": "0"})["statusCode"] == 200


def test_worker_defaults_to_the_guides_100_seconds(worker):
    assert worker.parse_duration(worker.DEFAULT_DURATION_MS) == (100.0, None)
    assert worker.parse_duration({}.get("duration_ms", worker.DEFAULT_DURATION_MS))[0] == 100.0


@pytest.mark.parametrize("bad", [-1, "-5", "soon", None, True, float("nan"), float("inf"), [1]])
def test_worker_reports_a_bad_duration_as_an_application_error(worker, bad):
    result = worker.main({"duration_ms": bad})
    assert set(result) == {"error"}
    assert "duration_ms" in result["error"]
