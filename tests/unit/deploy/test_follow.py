"""Waiting for activations: as long as the action may run, polled less often as time passes.

A fake client (activation records, action documents) and a fake clock that sleeping
advances, so a three-hour wait takes no time; the CLI's progress off a terminal is
checked through ``main`` with the same clock.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import responses

from deploy.cli import main
from deploy.errors import ConnectError
from deploy.follow import GRACE_S, Bound, duration, follow_fire, namespace_bound, wait_for
from deploy.http.sessions import requests_session

HOST = "https://ow.example"
NS = f"{HOST}/api/v1/namespaces/guest"
ENV = {"WHISK_APIHOST": HOST, "WHISK_AUTH": "u:" + "k" * 64, "WHISK_NAMESPACE": "guest"}
DONE = {"end": 5, "response": {"status": "success", "success": True, "result": {"ok": 1}}}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Settings:
    namespace = "guest"


class FakeClient:
    """Records appear at ``ends_at`` (clock seconds); actions are documents by name."""

    settings = Settings()

    def __init__(self, clock: Clock, ends_at: dict[str, float], actions: dict[str, Any]) -> None:
        self.clock, self.ends_at, self.actions = clock, ends_at, actions
        self.calls: list[tuple[str, str]] = []
        self.logs: dict[str, list[str]] = {}

    def activation(self, activation_id: str) -> dict[str, Any] | None:
        self.calls.append(("activation", activation_id))
        if self.clock() < self.ends_at.get(activation_id, float("inf")):
            return None
        return {**DONE, "logs": self.logs.get(activation_id, [])}

    def list(self, collection: str) -> list[dict[str, Any]]:
        self.calls.append(("list", collection))
        if self.actions is None:
            raise ConnectError("GET", f"{NS}/actions", None, "refused")
        return [{"name": n.split("/")[-1], **doc} for n, doc in self.actions.items()]

    def get(self, collection: str, name: str, **params: Any) -> dict[str, Any] | None:
        self.calls.append(("get", name))
        return self.actions.get(name)


def limits(ms: int) -> dict[str, Any]:
    return {"limits": {"timeout": ms}}


def test_a_finished_activation_costs_one_request_and_no_limit_lookup():
    clock = Clock()
    client = FakeClient(clock, {"a": 0}, {})
    looked_up = []
    record = wait_for(
        client, "a", lambda: looked_up.append(1) or Bound(1, "x"), sleep=clock.sleep, clock=clock
    )
    assert record["response"]["result"] == {"ok": 1}
    assert (client.calls, looked_up) == ([("activation", "a")], [])


def test_the_default_bound_is_the_longest_limit_in_the_namespace_plus_the_grace():
    clock = Clock()
    client = FakeClient(clock, {}, {"my-worker": limits(3 * 3600 * 1000), "test": limits(60000)})
    bound = namespace_bound(client)
    assert bound == Bound(
        3 * 3600 + GRACE_S, "the longest time limit in the namespace, my-worker's 3 h, + 60 s"
    )


def test_a_job_of_hours_is_waited_for_and_asked_at_most_every_15_s():
    clock = Clock()
    client = FakeClient(clock, {"a": 2.5 * 3600}, {"w": limits(3 * 3600 * 1000)})
    wait_for(client, "a", lambda: namespace_bound(client), sleep=clock.sleep, clock=clock)
    assert clock.now >= 2.5 * 3600
    assert max(clock.sleeps) == 15.0 and clock.sleeps[0] == 0.2
    assert len(client.calls) < 2.5 * 3600 / 14  # not every 2 s: about 650 polls, not 4,500


def test_giving_up_says_how_long_and_why():
    clock = Clock()
    client = FakeClient(clock, {}, {"my-worker": limits(120000)})
    with pytest.raises(Exception, match=r"does not exist yet after 3 min \(the longest") as caught:
        wait_for(client, "a", lambda: namespace_bound(client), sleep=clock.sleep, clock=clock)
    assert "my-worker's 2 min, + 60 s" in str(caught.value)
    assert 180 <= clock.now <= 181


def test_no_readable_limit_falls_back_to_three_minutes():
    clock = Clock()
    assert namespace_bound(FakeClient(clock, {}, None)).seconds == 180
    assert namespace_bound(FakeClient(clock, {}, {})).seconds == 180


def test_fire_wait_follows_each_action_within_its_own_limit_from_the_fire():
    clock = Clock()
    rule = {"rule": "guest/r", "action": "guest/pkg/my-worker", "activationId": "w"}
    client = FakeClient(clock, {"t": 0, "w": 100 * 60}, {"pkg/my-worker": limits(2 * 3600 * 1000)})
    client.logs["t"] = [json.dumps(rule)]
    [outcome] = follow_fire(client, "t", None, sleep=clock.sleep, clock=clock)
    assert (outcome["activationId"], outcome["result"]) == ("w", {"ok": 1})
    assert ("get", "pkg/my-worker") in client.calls  # its own limit, read from the server


def test_fire_wait_gives_up_at_the_actions_limit_plus_the_grace():
    clock = Clock()
    rule = {"rule": "guest/r", "action": "guest/my-worker", "activationId": "w"}
    client = FakeClient(clock, {"t": 0}, {"my-worker": limits(120000)})
    client.logs["t"] = [json.dumps(rule)]
    with pytest.raises(Exception, match=r"my-worker's time limit of 2 min \+ 60 s"):
        follow_fire(client, "t", None, sleep=clock.sleep, clock=clock)
    assert 180 <= clock.now <= 181


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.2, "0 s"), (59.6, "60 s"), (119, "119 s"), (180, "3 min"), (200, "3 min 20 s")]
    + [(7200, "2 h"), (3 * 3600 + 300, "3 h 5 min")],
)
def test_durations_read_as_a_person_says_them(seconds, text):
    assert duration(seconds) == text


def test_off_a_terminal_a_long_wait_says_it_is_alive_once_a_minute(monkeypatch, tmp_path: Path):
    clock = Clock()
    url = f"{NS}/activations/{'e' * 32}"
    log = io.StringIO()  # not a terminal
    monkeypatch.setattr("sys.stderr", log)
    with responses.RequestsMock() as rsps:
        rsps.get(f"{NS}/actions", json=[{"name": "my-worker", **limits(3600 * 1000)}])

        def record(request: Any) -> tuple[int, dict[str, str], str]:
            if clock.now < 5 * 60:
                return 404, {}, json.dumps({"error": "not yet"})
            return 200, {}, json.dumps(DONE)

        rsps.add_callback(responses.GET, url, callback=record)
        code = main(
            ["activation", "wait", "e" * 32],
            environ=ENV,
            home=tmp_path,
            session=requests_session(HOST),
            sleep=clock.sleep,
            clock=clock,
        )
    lines = [line for line in log.getvalue().splitlines() if line.startswith("waiting")]
    assert code == 0
    assert 5 <= len(lines) <= 6, lines  # the first, then one a minute for five minutes
    assert lines[0] == f"waiting for activation {'e' * 32}: 0 s so far, up to 61 min more"
    assert "\r" not in log.getvalue()
