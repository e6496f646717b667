"""What one activation leaves behind in its warm process, through a real localwhisk (issue #11).

A timer still pending when the result is returned, a rejection nobody handles, a crash
after the answer: none of it may break the next activation. Where the output of such
leftovers goes follows the platform: OpenWhisk cuts each activation's logs at its
sentinels (apache/openwhisk ``containerpool/docker/DockerContainer.scala``), so a line
printed between two activations is the next one's, and a process that died after its
answer takes its last words with it. Whether a process is reused shows in a token each
action draws once per process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from lw_helpers import (
    NS,
    ServerProcess,
    action_body,
    action_sandboxes,
    language_params,
    put,
    session,
    start_server,
)

pytestmark = pytest.mark.integration

# A line printed 50 ms after the result; the next activation waits for it before it
# returns, so that line was printed between the two activations' sentinels.
LATE = {
    "python": """
import threading, uuid
TOKEN = uuid.uuid4().hex
fired = threading.Event()
fired.set()
def main(args):
    global fired
    fired.wait(10)
    done = fired = threading.Event()
    def late():
        print("late", args["n"])
        done.set()
    threading.Timer(0.05, late).start()
    return {"token": TOKEN}
""",
    "nodejs": """
const TOKEN = require('crypto').randomUUID();
let fired = Promise.resolve();
async function main(args) {
  await fired;
  fired = new Promise((done) => setTimeout(() => { console.log('late', args.n); done() }, 50));
  return {token: TOKEN};
}
""",
}
# The process ends itself 300 ms after answering (time for the test to see it alive); the
# next activation comes once it is gone.
CRASH_LATER = {
    "python": """
import os, threading, uuid
TOKEN = uuid.uuid4().hex
def main(args):
    threading.Timer(0.3, lambda: (print("later", flush=True), os._exit(1))).start()
    return {"token": TOKEN}
""",
    "nodejs": """
const TOKEN = require('crypto').randomUUID();
function main(args) {
  setTimeout(() => { if (args.reject) Promise.reject(new Error('later')); else throw new Error('later') }, 300);
  return {token: TOKEN};
}
""",
}
UNHANDLED = """
const TOKEN = require('crypto').randomUUID();
function main(args) {
  Promise.reject(new Error('stray ' + args.n));
  return {token: TOKEN};
}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ServerProcess]:
    srv = start_server(tmp_path_factory.mktemp("leftovers"))
    try:
        yield srv
    finally:
        srv.stop()


def invoke(srv: ServerProcess, name: str, params: dict[str, Any]) -> dict[str, Any]:
    s = session()
    try:
        r = s.post(f"{srv.url}{NS}/actions/{name}?blocking=true", json=params, timeout=90)
        assert r.status_code == 200, r.text[:500]
        return r.json()
    finally:
        s.close()


def messages(record: dict[str, Any]) -> list[str]:
    return [line[31:] for line in record["logs"]]  # without the 30-character timestamp


def create(srv: ServerProcess, name: str, source: str, language: str) -> None:
    s = session()
    put(s, srv.url, f"{NS}/actions/{name}", action_body(source, language=language))
    s.close()


@pytest.mark.parametrize("language", language_params())
def test_a_line_printed_after_the_result_is_the_next_activations_and_the_process_stays(
    server, language
):
    name = f"late-{language}"
    create(server, name, LATE[language], language)
    runs = [invoke(server, name, {"n": n}) for n in range(3)]
    assert [r["response"]["status"] for r in runs] == ["success"] * 3
    assert [messages(r) for r in runs] == [[], ["stdout: late 0"], ["stdout: late 1"]]
    assert len({r["response"]["result"]["token"] for r in runs}) == 1  # one warm process


def test_a_rejection_left_unhandled_keeps_its_result_and_ends_its_process(server):
    """The runtime answers, then node ends the process (--unhandled-rejections=throw):
    the result stands with the rejection in its logs, and the next activation runs on a
    fresh process instead of finding this one dead."""
    create(server, "stray", UNHANDLED, "nodejs")
    runs = [invoke(server, "stray", {"n": n}) for n in range(3)]
    for n, run in enumerate(runs):
        assert run["response"]["status"] == "success"
        logs = "\n".join(messages(run))
        assert "Unhandled promise rejection after the action returned: Error: stray" in logs
        assert f"stray {n}" in logs and f"stray {n - 1}" not in logs
    assert len({r["response"]["result"]["token"] for r in runs}) == 3  # never reused


def _until_one_ends(srv: ServerProcess, pids: set[int], timeout: float = 10.0) -> bool:
    """Until one of ``pids`` is gone (bounded): only a process that ends itself leaves.

    ``pids`` are the server's own children (a sandbox, or the launcher without one): one
    of those gone has been reaped by the server, which then knows the process is dead."""
    deadline = time.monotonic() + timeout
    while pids <= action_sandboxes(srv.process.pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # poll interval while the process ends itself
    return True


@pytest.mark.parametrize(
    ("language", "params"),
    [
        pytest.param(*param.values, {}, marks=param.marks, id=param.values[0])
        for param in language_params()
    ]
    + [
        pytest.param(
            "nodejs", {"reject": True}, marks=language_params()[1].marks, id="nodejs-reject"
        )
    ],
)
def test_a_process_that_dies_after_answering_is_replaced_and_its_last_words_go_nowhere(
    tmp_path, language, params
):
    # A server of its own: nothing else there ends (spares wait, nothing is being discarded),
    # so the process serving the action is the one that leaves.
    server = start_server(tmp_path / "data")
    try:
        crash_then_run_again(server, language, params)
    finally:
        server.stop()


def crash_then_run_again(server: ServerProcess, language: str, params: dict[str, Any]) -> None:
    name = f"crash-later-{language}"
    create(server, name, CRASH_LATER[language], language)
    # The process serving it is a spare seen before, or one started for it and seen after.
    seen = action_sandboxes(server.process.pid)
    first = invoke(server, name, params)
    seen |= action_sandboxes(server.process.pid)
    assert first["response"]["status"] == "success" and messages(first) == []
    assert _until_one_ends(server, seen)
    second = invoke(server, name, params)
    assert second["response"]["status"] == "success"
    assert second["response"]["result"]["token"] != first["response"]["result"]["token"]
    assert not any("later" in line for line in messages(second))
