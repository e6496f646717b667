"""SIGKILL localwhisk in the middle of mixed load, restart it on the same data (issue #5).

Every activation acknowledged before the kill must, after the restart, have a
finished record: complete, or a whisk internal error that says why. Entities are
unchanged and SQLite's ``PRAGMA integrity_check`` says ``ok``. The repeated,
20,000-operation version is ``bench/soak_localwhisk.py``.
"""

from __future__ import annotations

import threading

import pytest
from lw_helpers import (
    NS,
    audit,
    create_load_entities,
    integrity_check,
    language_params,
    run_load,
    session,
    settle_all,
    start_server,
)

pytestmark = pytest.mark.integration

TOTAL = 1000
CLIENTS = 64
KILL_AFTER = 300  # acknowledged activations before the SIGKILL


def entities(url: str) -> dict[str, object]:
    """Every entity of the load, minus fields a restart may legitimately change (none)."""
    s = session()
    try:
        found = {}
        for collection in ("actions", "triggers", "rules", "packages"):
            listing = s.get(f"{url}{NS}/{collection}", params={"limit": 200}, timeout=60)
            assert listing.status_code == 200
            for item in listing.json():
                name = item["name"]
                full = s.get(f"{url}{NS}/{collection}/{name}", timeout=60)
                assert full.status_code == 200
                found[f"{collection}/{name}"] = full.json()
        return found
    finally:
        s.close()


def kill_mid_load(server, total: int, clients: int, kill_after: int, seed: int):
    """Run the load and SIGKILL the server once ``kill_after`` activations are acked."""
    killed = threading.Event()
    lock = threading.Lock()

    def on_progress(acked: int) -> None:
        if acked >= kill_after and not killed.is_set():
            with lock:
                if not killed.is_set():
                    server.process.kill()  # SIGKILL: no shutdown code runs
                    killed.set()

    load = run_load(server.url, total, clients, seed=seed, on_progress=on_progress)
    server.process.wait(timeout=30)
    assert killed.is_set()
    return load


def check_after_restart(restarted, acked: dict[str, str], before: dict[str, object]):
    settle_all(restarted.url, acked)
    result = audit(restarted.data_dir, acked, allow_failed=True)
    assert result.lost == [], f"{len(result.lost)} acknowledged activations have no record"
    assert result.unfinished == []
    assert result.failed_without_message == []
    # Statuses are only success or the interruption's whisk error.
    assert set(result.statuses) <= {"success", "whisk internal error"}, result.statuses
    assert result.bad_trigger_logs == []
    assert entities(restarted.url) == before
    return result


@pytest.mark.parametrize("language", language_params())
def test_sigkill_mid_load_loses_no_acknowledged_activation(tmp_path, language):
    data = tmp_path / "data"
    server = start_server(data)
    try:
        create_load_entities(server.url, language)
        before = entities(server.url)
        load = kill_mid_load(server, TOTAL, CLIENTS, KILL_AFTER, seed=11)
        assert len(load.acked) >= KILL_AFTER
        assert load.transport_errors > 0  # the kill really happened mid-load
    finally:
        server.stop()
    assert integrity_check(data) == "ok"
    restarted = start_server(data)
    try:
        check_after_restart(restarted, load.acked, before)
        # The restarted server works: one more invoke is recorded normally.
        s = session()
        r = s.post(f"{restarted.url}{NS}/actions/lw-load?blocking=true", json={"n": -1}, timeout=60)
        s.close()
        assert r.status_code == 200
    finally:
        restarted.stop()
    assert integrity_check(data) == "ok"
