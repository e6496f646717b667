"""The readiness probe `make up` uses: ready line, fatal error, bounded wait."""

from __future__ import annotations

import time

from localwhisk.readiness import main, wait_ready


def test_reports_the_ready_line(tmp_path, capsys):
    log = tmp_path / "log"
    log.write_text("starting\nlocalwhisk listening on http://127.0.0.1:3233\n")
    assert main([str(log), "--timeout", "1"]) == 0
    assert capsys.readouterr().out.strip() == "localwhisk listening on http://127.0.0.1:3233"


def test_a_fatal_error_fails_at_once_with_the_log_tail(tmp_path, capsys):
    log = tmp_path / "log"
    log.write_text("localwhisk: error: cannot listen on 127.0.0.1:3233: address already in use\n")
    started = time.monotonic()
    assert main([str(log), "--timeout", "10"]) == 1
    assert time.monotonic() - started < 5
    assert "address already in use" in capsys.readouterr().err


def test_the_wait_is_bounded(tmp_path):
    started = time.monotonic()
    ready, text = wait_ready(tmp_path / "missing", timeout=0.2)
    assert not ready and "not ready after 0.2 s" in text
    assert time.monotonic() - started < 2


def test_a_dead_process_fails_early(tmp_path):
    log = tmp_path / "log"
    log.write_text("")
    ready, _ = wait_ready(log, timeout=10, pid=2**22 + 12345)
    assert not ready
