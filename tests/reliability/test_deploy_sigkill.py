"""A deploy killed with SIGKILL at any request converges when run again; undeploy then cleans up.

The fast cut of ``bench.soak``'s 30 kill points. The deploy runs through
``faultproxy`` (no faults), which kills the process when the chosen request
arrives and then either forwards that request (the server applies it, the tool
never hears back) or drops it. Kill points are seeded and start from an empty
namespace or from ``rel-app`` v2 deployed (so the killed deploy was mid-way
through creates, updates or deletes). After each kill: a plain re-run exits 0, a
``plan`` finds nothing to do, ``undeploy`` leaves nothing of ``rel-app`` and
everything of the ``bystander`` project and the hand-made action.
"""

from __future__ import annotations

from harness import KillPoint, count_requests, kill_points, sigkill_run, write_app

SEED = 7
POINTS = 3


def test_a_deploy_killed_at_any_request_converges_on_rerun(proxy, rel_server, tmp_path, home):
    folder = write_app(tmp_path / "app", 1)
    counts = {start: count_requests(proxy, rel_server, folder, home, start) for start in (0, 2)}
    assert all(n >= 10 for n in counts.values()), counts
    # the first and the last request, then seeded ones in between
    points = [
        KillPoint(0, 0, False),
        KillPoint(2, counts[2] - 1, True),
        *kill_points(SEED, POINTS, counts),
    ]
    for number, point in enumerate(points):
        figures = sigkill_run(proxy, rel_server, folder, home, point, f"kill-{number}")
        assert figures["killed_at"]
