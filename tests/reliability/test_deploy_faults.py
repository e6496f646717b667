"""deploy and undeploy converge through 20 % injected faults; 4xx answers are never retried.

The fast cut of ``bench.soak``'s 50 runs: a few seeded runs of a fresh deploy and an
undeploy, each as a whole ``python -m deploy`` process through ``faultproxy``. After
each deploy a ``plan`` straight against the server must find nothing to do; after
each undeploy nothing of ``rel-app`` may be left and the other project and the
hand-made action must be untouched. The proxy's log proves what was retried.
"""

from __future__ import annotations

import json

import pytest
from faultproxy import NO_RETRY, Forced, Schedule
from harness import (
    KEY,
    FaultFigures,
    assert_gone,
    check_clean_failure,
    fault_run,
    retry_after_honoured,
    run_here,
    run_tool,
    write_app,
)

SEEDS = {1: "0", 2: "1"}  # seed -> the Retry-After value its 429s carry
RATE = 0.2


def test_deploy_and_undeploy_converge_through_twenty_percent_faults(
    proxy, rel_server, tmp_path, home
):
    folder = write_app(tmp_path / "app", 1)
    figures = FaultFigures()
    for seed, retry_after in SEEDS.items():
        fault_run(proxy, rel_server, folder, home, seed, RATE, figures, retry_after)
    assert (figures.deploy_runs, figures.undeploy_runs) == (len(SEEDS), len(SEEDS))
    injected = proxy.faults()
    # the seeds are fixed: these runs meet 429s, 5xx and resets, before and after the server
    assert sum(injected.values()) >= 5, injected
    assert {"429", "5xx", "reset"} <= {
        "5xx" if k[0] == "5" else k.split("-")[0] for k in injected
    }, injected
    assert any(k.endswith("-after") for k in injected), injected
    assert (
        proxy.retries()
        >= sum(n for k, n in injected.items() if not k.startswith("slow")) - figures.reruns
    ), "every fault but slow answers costs a retry"
    assert not proxy.retried_after(NO_RETRY)
    waited = tuple(
        f"{verb}-{seed}#"
        for seed, v in SEEDS.items()
        if v == "1"
        for verb in ("deploy", "undeploy")
    )
    assert retry_after_honoured(proxy, 0.9, waited) == []
    assert any(r.fault == "429-retry-after" and r.run.startswith(waited) for r in proxy.of()), (
        "the seeds no longer meet a Retry-After: 1"
    )


def _put(name: str):
    def match(method: str, path: str) -> bool:
        return method == "PUT" and path.split("?")[0].endswith(name)

    return match


def test_client_errors_are_reported_once_and_never_retried(proxy, rel_server, tmp_path, home):
    folder = write_app(tmp_path / "app", 1)
    # one deploy per stopping point: a failed level stops the deploy, so 404 and 409 come
    # in the later levels of the re-runs (each re-run picks up where the last stopped)
    runs = [
        {"/actions/worker": 400, "/actions/web": 401, "/actions/relpkg/echo": 403},
        {"/actions/relpkg/twice": 404},
        {"/rules/tick-rule": 409},
    ]
    for number, forced in enumerate(runs):
        proxy.begin(f"forced-{number}", Schedule())
        proxy.forced = [Forced(_put(name), status) for name, status in forced.items()]
        done = run_tool(folder, proxy.url, home, "deploy", "--json")
        check_clean_failure(done)
        assert done.returncode == 1
        assert json.loads(done.stdout)["ok"] is False
        assert KEY.split(":")[1] not in done.stdout + done.stderr
        for name, status in forced.items():
            assert f"HTTP {status}" in done.stderr
            sent = [r.status for r in proxy.of(proxy.run) if _put(name)(r.method, r.path)]
            assert sent == [status], f"{name}: the refused PUT was sent again: {sent}"
        assert not proxy.retried_after(NO_RETRY, proxy.run)
    assert run_here(folder, rel_server, home, "undeploy").returncode == 0
    assert_gone(rel_server)


def test_slow_answers_are_waited_for_and_a_404_delete_is_already_gone(
    proxy, rel_server, tmp_path, home
):
    folder = write_app(tmp_path / "app", 1)
    proxy.begin("slow", Schedule(seed=5, rate=1.0, kinds=("slow",), slow_s=0.02))
    done = run_tool(folder, proxy.url, home, "deploy")
    assert done.returncode == 0, done.stderr
    assert proxy.retries("slow") == 0
    assert set(proxy.faults("slow")) == {"slow"}

    def delete_worker(method: str, path: str) -> bool:
        return method == "DELETE" and path.split("?")[0].endswith("/actions/worker")

    proxy.begin("undeploy-404", Schedule())
    proxy.forced.append(Forced(delete_worker, 404))
    done = run_tool(folder, proxy.url, home, "undeploy")
    assert done.returncode == 0, done.stderr
    assert "already gone" in done.stdout
    assert [r.status for r in proxy.of(proxy.run) if delete_worker(r.method, r.path)] == [404]
    # the forced 404 was a lie: a second undeploy finds the action and removes it
    assert run_here(folder, rel_server, home, "undeploy").returncode == 0
    assert_gone(rel_server)


@pytest.mark.parametrize("verb", ["invoke", "fire"])
def test_a_post_whose_answer_is_lost_is_not_sent_twice(verb, proxy, rel_server, tmp_path, home):
    """A reset after the server took an invoke or fire: retrying would run the action twice."""
    folder = write_app(tmp_path / "app", 1)
    assert run_here(folder, rel_server, home, "deploy").returncode == 0
    proxy.begin(f"{verb}-lost-answer", Schedule())
    target = {"invoke": "/actions/worker", "fire": "/triggers/tick"}[verb]

    def post(method: str, path: str) -> bool:
        return method == "POST" and path.split("?")[0].endswith(target)

    proxy.forced.append(Forced(post, None, after=True))
    done = run_tool(folder, proxy.url, home, verb, target.rsplit("/", 1)[1])
    check_clean_failure(done)
    assert done.returncode == 1
    sent = [r for r in proxy.of(proxy.run) if post(r.method, r.path)]
    assert [r.forwarded for r in sent] == [True], "the server got the same POST twice"
    assert run_here(folder, rel_server, home, "undeploy").returncode == 0
    assert_gone(rel_server)
