"""The dashboard's data against a real localwhisk: an action that calls the REST API from
inside its process (Python and Node.js, sandboxed where bubblewrap works) is recorded
as the cause of what it started; REST records stay as they were; events arrive live."""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from deploytool import clean_env, owdeploy
from lw_client import NS, Client

DASH = "/dashboard/api/namespaces/_"
PROVIDE_KEY = [{"key": "provide-api-key", "value": True}]
PY_CALLER = """
import base64, json, os, urllib.request
def main(args):
    host, key = os.environ["__OW_API_HOST"], os.environ["__OW_API_KEY"]
    req = urllib.request.Request(
        host + "/api/v1/namespaces/_/actions/" + args["target"], data=b"{}", method="POST",
        headers={"Authorization": "Basic " + base64.b64encode(key.encode()).decode(),
                 "Content-Type": "application/json",
                 # forged: names another activation; nothing reads it
                 "X-Caused-By": "0" * 32})
    with urllib.request.urlopen(req, timeout=10) as answer:
        return json.loads(answer.read())
"""
JS_CALLER = """
const http = require('http');
function main(args) {
  const url = new URL(process.env.__OW_API_HOST + '/api/v1/namespaces/_/actions/' + args.target);
  const auth = 'Basic ' + Buffer.from(process.env.__OW_API_KEY).toString('base64');
  return new Promise((resolve, reject) => {
    const req = http.request(url, {method: 'POST', headers: {Authorization: auth, 'Content-Type': 'application/json'}}, (res) => {
      let body = ''; res.on('data', (c) => body += c); res.on('end', () => resolve(JSON.parse(body)));
    });
    req.on('error', reject); req.end('{}');
  });
}
"""
TARGET = "def main(args):\n    return {'done': True}\n"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def rows(api) -> dict[str, dict]:
    found = api.request("GET", f"{DASH}/activations")
    assert found.status_code == 200, found.text
    return {row["id"]: row for row in found.json()["activations"]}


def finished(api, wait_for, activation_id: str) -> dict:
    return wait_for(
        lambda: (row := rows(api).get(activation_id)) and row["status"] != "running" and row,
        timeout=30,
        what=f"activation {activation_id} to finish",
    )


@pytest.mark.parametrize(
    "kind, code", [("python:3.11", PY_CALLER), ("nodejs:20", JS_CALLER)], ids=["python", "nodejs"]
)
def test_an_invoke_made_by_a_running_action_is_traced_to_it(api, wait_for, kind, code):
    caller, target = unique("caller"), unique("target")
    assert api.put(f"{NS}/actions/{target}", {"exec": {"kind": "python:3.11", "code": TARGET}}).ok
    body = {"exec": {"kind": kind, "code": code}, "annotations": PROVIDE_KEY}
    assert api.put(f"{NS}/actions/{caller}", body).ok
    done = api.post(f"{NS}/actions/{caller}", {"target": target}, params={"blocking": "true"})
    assert done.status_code == 200, done.text
    caller_id = done.json()["activationId"]
    started = done.json()["response"]["result"]["activationId"]
    row = finished(api, wait_for, started)
    assert (row["by"], row["via"]) == (caller_id, "api")
    assert row["name"] == target and row["kind"] == "python:3.11"
    assert rows(api)[caller_id]["kind"] == kind
    # The caller's view lists what it caused; the REST record of either carries no trace.
    one = api.request("GET", f"{DASH}/activations/{caller_id}").json()
    assert [c["id"] for c in one["caused"]] == [started]
    assert one["params"] == {"target": target}
    record = api.request("GET", f"{NS}/activations/{started}").json()
    assert "trace" not in record and "cause" not in record and "by" not in json.dumps(record)


def test_a_client_outside_the_actions_causes_nothing_and_sequences_link_components(api, wait_for):
    target, seq = unique("target"), unique("seq")
    assert api.put(f"{NS}/actions/{target}", {"exec": {"kind": "python:3.11", "code": TARGET}}).ok
    plain = api.post(f"{NS}/actions/{target}", {}, params={"blocking": "true"})
    assert "by" not in finished(api, wait_for, plain.json()["activationId"])
    components = [f"/_/{target}", f"/_/{target}"]
    assert api.put(
        f"{NS}/actions/{seq}", {"exec": {"kind": "sequence", "components": components}}
    ).ok
    done = api.post(f"{NS}/actions/{seq}", {}, params={"blocking": "true"})
    seq_id = done.json()["activationId"]
    children = done.json()["logs"]
    for child in children:
        assert (finished(api, wait_for, child)["by"], rows(api)[child]["via"]) == (
            seq_id,
            "sequence",
        )
    assert rows(api)[seq_id]["kind"] == "sequence"


def test_the_event_stream_carries_an_activation_as_it_starts_and_ends(api, localwhisk_url):
    name = unique("slow")
    code = "import time\ndef main(a):\n    time.sleep(0.3)\n    return {}\n"
    assert api.put(f"{NS}/actions/{name}", {"exec": {"kind": "python:3.11", "code": code}}).ok
    seen: dict[str, set[str]] = {}
    with requests.get(
        f"{localwhisk_url}{DASH}/events", auth=api.session.auth, stream=True, timeout=10
    ) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 2000"
        activation_id = api.post(f"{NS}/actions/{name}", {}).json()["activationId"]
        deadline = time.monotonic() + 20
        event = ""
        while time.monotonic() < deadline and seen.get(activation_id) != {"running", "success"}:
            line = next(lines)
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "activations":
                for row in json.loads(line[6:]):
                    seen.setdefault(row["id"], set()).add(row["status"])
    assert seen.get(activation_id) == {"running", "success"}


def test_the_pages_are_served_with_head_too_and_the_root_is_json(localwhisk_url):
    page = requests.head(f"{localwhisk_url}/dashboard", timeout=10)
    assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
    assert requests.get(f"{localwhisk_url}/", timeout=10).json()["api_paths"] == ["/api/v1"]


def test_without_the_sandbox_the_caller_is_found_too(
    start_localwhisk, tmp_path, guest_auth, wait_for
):

    server = start_localwhisk(tmp_path / "data", "--isolation", "none")
    api = Client(server.url, guest_auth)
    try:
        assert api.put(f"{NS}/actions/t", {"exec": {"kind": "python:3.11", "code": TARGET}}).ok
        body = {"exec": {"kind": "nodejs:20", "code": JS_CALLER}, "annotations": PROVIDE_KEY}
        assert api.put(f"{NS}/actions/c", body).ok
        done = api.post(f"{NS}/actions/c", {"target": "t"}, params={"blocking": "true"})
        started = done.json()["response"]["result"]["activationId"]
        assert finished(api, wait_for, started)["by"] == done.json()["activationId"]
    finally:
        api.session.close()
        server.stop()


def test_deploy_to_the_local_default_prints_the_dashboard_beside_the_curl_line(
    localwhisk_url, tmp_path
):

    (tmp_path / "manifest.yaml").write_text(
        "project:\n  name: dash-url\n  packages:\n    default:\n      actions:\n"
        "        hello:\n          function: hello.py\n          runtime: python:3.11\n"
        "          web: true\n"
    )
    (tmp_path / "hello.py").write_text(TARGET)
    port = localwhisk_url.rsplit(":", 1)[1]
    env = clean_env(tmp_path, LOCALWHISK_PORT=port)  # no credentials: the local default
    done = owdeploy(tmp_path, "deploy", env=env)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    curl = next(i for i, line in enumerate(lines) if line.strip().startswith("curl "))
    dashboard = next(i for i, line in enumerate(lines) if "/dashboard" in line)
    assert dashboard > curl and lines[dashboard].endswith(f"http://127.0.0.1:{port}/dashboard")
    assert requests.get(f"http://127.0.0.1:{port}/dashboard", timeout=10).status_code == 200
    owdeploy(tmp_path, "undeploy", env=env)


def test_a_running_activations_logs_are_readable_as_they_arrive(api, localwhisk_url, wait_for):
    name = unique("chatty")
    code = (
        "import time\ndef main(a):\n    print('first line', flush=True)\n"
        "    time.sleep(1.5)\n    print('last line')\n    return {}\n"
    )
    assert api.put(f"{NS}/actions/{name}", {"exec": {"kind": "python:3.11", "code": code}}).ok
    activation_id = api.post(f"{NS}/actions/{name}", {}).json()["activationId"]
    with requests.get(
        f"{localwhisk_url}{DASH}/events",
        params={"follow": activation_id},
        auth=api.session.auth,
        stream=True,
        timeout=10,
    ) as stream:
        event, logs = "", None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == "logs":
                logs = json.loads(line[6:])
                break
    assert logs["id"] == activation_id and logs["from"] == 0
    assert logs["lines"][0].endswith("stdout: first line")
    one = api.request("GET", f"{DASH}/activations/{activation_id}").json()
    assert one["summary"]["status"] == "running" and one["record"] is None
    assert [line.split(": ", 1)[1] for line in one["logs"]] == ["first line"]
    done = finished(api, wait_for, activation_id)
    assert done["status"] == "success"


def test_bad_queries_are_refused_with_what_was_expected(api):
    bad_id = api.request("GET", f"{DASH}/activations/not-an-id")
    assert bad_id.status_code == 400 and "32 hexadecimal digits" in bad_id.json()["error"]
    bad_limit = api.request("GET", f"{DASH}/activations", params={"limit": "99999"})
    assert bad_limit.status_code == 400 and "from 1 to 2000" in bad_limit.json()["error"]
    bad_follow = api.request("GET", f"{DASH}/events", params={"follow": "x"})
    assert bad_follow.status_code == 400
