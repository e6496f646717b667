"""The dashboard through the in-process app: its pages' headers, sign-in pre-fill, the gate
on its data, causes (traces) kept out of REST answers, and the event stream."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace

from fakes import FakeRunner, call, header, make_app, make_backend

from localwhisk.api import dashboardapi
from localwhisk.config import Namespace
from localwhisk.platform.feed import ActivationFeed
from localwhisk.platform.invoker import shown_params

NS = "/api/v1/namespaces/_"
DASH = "/dashboard/api/namespaces/_"
CODE = {"kind": "python:3.11", "code": "def main(a): return a"}
ACTION_PEER = ("127.0.0.1", 40001)  # the FakeRunner says this connection is an action's
# What a finished activation record held for clients before the dashboard existed.
REST_FIELDS = {
    "namespace", "name", "version", "subject", "activationId", "start", "end", "duration",
    "response", "logs", "annotations", "publish",
}  # fmt: skip


def setup(tmp_path, runner=None):
    runner = runner or FakeRunner()
    backend = make_backend(tmp_path, runner)
    return runner, backend, make_app(backend)


def test_pages_carry_a_strict_policy_and_no_cookie(tmp_path):
    _, _, app = setup(tmp_path)

    async def go():
        return [
            await call(app, "GET", path, auth=None) for path in ("/dashboard", "/dashboard/app.js")
        ]

    page, script = asyncio.run(go())
    assert page.status == 200 and b'<script src="/dashboard/app.js"' in page.body
    assert b"<script>" not in page.body  # nothing inline: the policy would refuse it
    policy = header(page, "content-security-policy")
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "default-src 'none'" in policy
    assert header(page, "x-frame-options") == "DENY"
    assert header(page, "set-cookie") is None
    assert script.status == 200 and header(script, "content-type").startswith("text/javascript")
    assert b"innerHTML" not in script.body  # everything shown is text (textContent)
    assert b"localStorage" not in script.body and b"document.cookie" not in script.body


def test_the_root_stays_the_apis_json_and_unknown_files_are_404(tmp_path):
    _, _, app = setup(tmp_path)

    async def go():
        root = await call(app, "GET", "/", auth=None)
        missing = await call(app, "GET", "/dashboard/secrets.js", auth=None)
        dotted = await call(app, "GET", "/dashboard/..%2Fserver.py", auth=None)
        return root, missing, dotted

    root, missing, dotted = asyncio.run(go())
    assert root.status == 200 and "runtimes" in json.loads(root.body)
    assert missing.status == 404 and dotted.status == 404


def test_the_guest_key_is_prefilled_only_for_the_default_guest_namespace(tmp_path):
    _, backend, app = setup(tmp_path)
    first = asyncio.run(call(app, "GET", "/dashboard/signin.json", auth=None))
    assert json.loads(first.body)["key"].startswith("23bc46b1-")
    backend.settings = replace(
        backend.settings,
        namespaces=(Namespace("team", "a" * 8 + "-0000-0000-0000-" + "0" * 12, "k" * 64),),
    )
    second = asyncio.run(call(make_app(backend), "GET", "/dashboard/signin.json", auth=None))
    assert json.loads(second.body) == {"key": None}


def test_the_data_needs_the_key_and_refuses_foreign_pages_like_the_rest_api(tmp_path):
    _, _, app = setup(tmp_path)

    async def go():
        anonymous = await call(app, "GET", f"{DASH}/activations", auth=None)
        foreign = await call(
            app, "GET", f"{DASH}/events", headers={"origin": "http://evil.example"}
        )
        other = await call(app, "GET", "/dashboard/api/namespaces/someone/activations")
        return anonymous, foreign, other

    anonymous, foreign, other = asyncio.run(go())
    assert anonymous.status == 401
    assert foreign.status == 403 and header(foreign, "access-control-allow-origin") is None
    assert other.status == 403


def test_a_call_from_a_running_action_is_traced_and_rest_answers_do_not_show_it(tmp_path):
    runner, backend, app = setup(tmp_path)

    async def go():
        await call(app, "PUT", f"{NS}/actions/web", {"exec": CODE})
        await call(app, "PUT", f"{NS}/actions/worker", {"exec": CODE})
        runner.gate = asyncio.Event()
        started = await call(app, "POST", f"{NS}/actions/web", {})
        web_id = json.loads(started.body)["activationId"]
        runner.callers[ACTION_PEER] = web_id  # the kernel's answer, as runtime.peers gives it
        inner = await call(app, "POST", f"{NS}/actions/worker", {"n": 1}, peer=ACTION_PEER)
        outside = await call(app, "POST", f"{NS}/actions/worker", {}, peer=("127.0.0.1", 40002))
        # A header an action could set names nothing: only the connection counts.
        forged = await call(
            app, "POST", f"{NS}/actions/worker", {}, headers={"x-caused-by": web_id}
        )
        runner.gate.set()
        ids = [json.loads(r.body)["activationId"] for r in (inner, outside, forged)]
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not backend.invoker.running("guest"):
                break
        rows = json.loads((await call(app, "GET", f"{DASH}/activations")).body)["activations"]
        record = json.loads((await call(app, "GET", f"{NS}/activations/{ids[0]}")).body)
        listed = json.loads((await call(app, "GET", f"{NS}/activations", query="docs=true")).body)
        one = json.loads((await call(app, "GET", f"{DASH}/activations/{web_id}")).body)
        return web_id, ids, rows, record, listed, one

    web_id, (inner, outside, forged), rows, record, listed, one = asyncio.run(go())
    by_id = {row["id"]: row for row in rows}
    assert by_id[inner]["by"] == web_id and by_id[inner]["via"] == "api"
    assert "by" not in by_id[outside] and "by" not in by_id[forged]
    assert by_id[inner]["kind"] == "python:3.11"
    assert set(record) == REST_FIELDS  # no trace, no cause: the platform's record as it was
    assert all(set(doc) <= REST_FIELDS | {"cause"} for doc in listed)
    assert "trace" not in json.dumps(listed)
    assert [c["id"] for c in one["caused"]] == [inner]
    assert one["params"] == {}


def test_a_trigger_traces_each_rules_activation_to_it(tmp_path):
    _, backend, app = setup(tmp_path)

    async def go():
        await call(app, "PUT", f"{NS}/actions/worker", {"exec": CODE})
        await call(app, "PUT", f"{NS}/triggers/t", {})
        await call(app, "PUT", f"{NS}/rules/r", {"trigger": "/_/t", "action": "/_/worker"})
        fired = json.loads((await call(app, "POST", f"{NS}/triggers/t", {"x": 1})).body)
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not backend.invoker.running("guest"):
                break
        return fired, json.loads((await call(app, "GET", f"{DASH}/activations")).body)

    fired, found = asyncio.run(go())
    rows = {row["name"]: row for row in found["activations"]}
    assert rows["t"]["kind"] == "trigger" and rows["t"]["id"] == fired["activationId"]
    assert rows["worker"]["by"] == fired["activationId"]
    assert rows["worker"]["via"] == "rule" and rows["worker"]["rule"] == "guest/r"


def test_the_event_stream_pushes_activations_and_ends_at_shutdown(tmp_path):
    _, backend, app = setup(tmp_path)

    async def go():
        await call(app, "PUT", f"{NS}/actions/hello", {"exec": CODE})
        stays = asyncio.Event()  # never set: the stream ends because the server stops
        stream = asyncio.ensure_future(call(app, "GET", f"{DASH}/events", connected=stays))
        for _ in range(200):  # until the stream has subscribed
            await asyncio.sleep(0.005)
            if backend.invoker.feed.watching("guest"):
                break
        await call(app, "POST", f"{NS}/actions/hello", {}, query="blocking=true")
        await asyncio.sleep(dashboardapi.BATCH_S * 3)
        await backend.invoker.shutdown()
        return await asyncio.wait_for(stream, 5)

    answer = asyncio.run(go())
    assert answer.status == 200 and header(answer, "content-type").startswith("text/event-stream")
    assert header(answer, "content-length") is None
    events = [
        block for block in answer.body.decode().split("\n\n") if "event: activations" in block
    ]
    rows = [row for block in events for row in json.loads(block.split("data: ", 1)[1])]
    assert {row["status"] for row in rows if row["name"] == "hello"} >= {"success"}
    assert backend.invoker.feed.watching("guest") == 0


def test_a_web_callers_credentials_are_not_kept_with_the_parameters():
    shown = shown_params({"__ow_headers": {"authorization": "Basic c2VjcmV0", "accept": "*/*"}})
    assert shown["__ow_headers"] == {"authorization": "(not kept)", "accept": "*/*"}
    assert shown_params({"big": "x" * 10000}) == {"(not kept)": "10010 bytes"}  # {"big":"x…"}


def test_a_logs_event_carries_a_bounded_part_of_a_big_log():
    short = ["x" * 100] * 5000
    batch = dashboardapi.log_batch(short)
    assert 0 < len(batch) and sum(map(len, batch)) <= dashboardapi.LOG_EVENT_CHARS
    assert batch == short[: len(batch)]
    huge = dashboardapi.log_batch(["y" * 10_000_000, "z"])
    assert len(huge) == 1 and len(huge[0]) < dashboardapi.LOG_EVENT_CHARS + 100
    assert huge[0].endswith(
        f"[{10_000_000 - dashboardapi.LOG_EVENT_CHARS} more characters in the record's logs]"
    )


def test_a_follower_gets_a_long_log_in_bounded_events_in_order(tmp_path):
    runner, backend, app = setup(tmp_path)
    lines = [
        f"2026-12-02T00:00:00.000000000Z stdout: line {n:06d} " + "x" * 60 for n in range(5000)
    ]

    async def go():
        await call(app, "PUT", f"{NS}/actions/hello", {"exec": CODE})
        runner.gate = asyncio.Event()
        started = await call(app, "POST", f"{NS}/actions/hello", {})
        activation_id = json.loads(started.body)["activationId"]
        runner.logs_so_far[activation_id] = lines
        stays = asyncio.Event()
        stream = asyncio.ensure_future(
            call(app, "GET", f"{DASH}/events", query=f"follow={activation_id}", connected=stays)
        )
        await asyncio.sleep(dashboardapi.FOLLOW_S * 4)
        runner.gate.set()
        await asyncio.sleep(dashboardapi.BATCH_S * 3)
        stays.set()
        return await asyncio.wait_for(stream, 5)

    answer = asyncio.run(go())
    events = [b for b in answer.body.decode().split("\n\n") if b.startswith("event: logs")]
    shown = [json.loads(b.split("data: ", 1)[1]) for b in events]
    assert len(shown) >= 5000 * 100 // dashboardapi.LOG_EVENT_CHARS
    assert all(sum(map(len, e["lines"])) <= dashboardapi.LOG_EVENT_CHARS for e in shown)
    assert [line for e in shown for line in e["lines"]] == lines
    assert [e["from"] for e in shown] == [
        sum(len(e["lines"]) for e in shown[:i]) for i in range(len(shown))
    ]


def test_streams_past_the_namespace_cap_are_429_and_a_closed_one_frees_its_slot(tmp_path):
    _, backend, app = setup(tmp_path)
    backend.invoker.feed = ActivationFeed(per_namespace=1)

    async def go():
        stays = asyncio.Event()
        first = asyncio.ensure_future(call(app, "GET", f"{DASH}/events", connected=stays))
        for _ in range(200):
            await asyncio.sleep(0.005)
            if backend.invoker.feed.watching("guest"):
                break
        refused = await call(app, "GET", f"{DASH}/events")
        listed = await call(app, "GET", f"{DASH}/activations")
        stays.set()
        await asyncio.wait_for(first, 5)
        return refused, listed, backend.invoker.feed.watching("guest")

    refused, listed, left = asyncio.run(go())
    assert refused.status == 429 and header(refused, "retry-after") == "5"
    error = json.loads(refused.body)
    assert "Too many open event streams for namespace 'guest'" in error["error"]
    assert error["code"] == header(refused, "x-request-id")
    assert listed.status == 200 and left == 0


def test_an_event_stream_never_read_still_frees_its_slot():
    async def go():
        feed = ActivationFeed(per_namespace=1)
        sub = feed.subscribe("guest")

        async def chunks():
            yield b""

        await dashboardapi.EventStream(sub, chunks()).aclose()
        return feed.watching("guest")

    assert asyncio.run(go()) == 0


def test_one_running_activation_shows_a_bounded_first_part_of_its_log(tmp_path):
    runner, backend, app = setup(tmp_path)
    lines = [f"stdout: line {n:06d} " + "x" * 100 for n in range(20_000)]

    async def go():
        await call(app, "PUT", f"{NS}/actions/hello", {"exec": CODE})
        runner.gate = asyncio.Event()
        started = await call(app, "POST", f"{NS}/actions/hello", {})
        activation_id = json.loads(started.body)["activationId"]
        runner.logs_so_far[activation_id] = lines
        one = await call(app, "GET", f"{DASH}/activations/{activation_id}")
        runner.gate.set()
        return one

    shown = json.loads(asyncio.run(go()).body)["logs"]
    assert 0 < len(shown) < len(lines) and shown == lines[: len(shown)]
    assert sum(map(len, shown)) <= dashboardapi.LOG_EVENT_CHARS
