"""Node.js actions over the real server: kinds, code forms, results, environment, the client.

What apache/openwhisk-runtime-nodejs (core/nodejsActionBase/runner.js, src/service.js)
does is what these expect; the runtime test kits' cases live in test_runtime_kits.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest
from lw_client import NS, Client, unique, wait_for
from serverprocess import GUEST_AUTH, start_server

pytestmark = pytest.mark.integration

NODE = shutil.which("node")


def node_action(source: str, **extra: object) -> dict:
    return {"exec": {"kind": "nodejs:default", "code": source}, **extra}


def invoke(api: Client, name: str, params: dict | None = None) -> dict:
    ran = api.post(f"{NS}/actions/{name}", params or {}, params={"blocking": "true"})
    assert ran.status_code in (200, 502), ran.text
    return ran.json()


def test_get_slash_lists_the_nodejs_kinds_with_nodejs_20_the_default(api: Client) -> None:
    nodejs = api.get("/").json()["runtimes"]["nodejs"]
    assert [k["kind"] for k in nodejs] == ["nodejs:18", "nodejs:20", "nodejs:22"]
    assert [k["kind"] for k in nodejs if k["default"]] == ["nodejs:20"]


@pytest.mark.skipif(NODE is None, reason="needs node on PATH (make test installs nothing else)")
def test_a_plain_source_action_runs_with_logs_and_the_activation_environment(
    api: Client,
) -> None:
    name = unique()
    source = """
        function main(params) {
            console.log('hello', params.who);
            console.error('to stderr');
            return { who: params.who, id: process.env.__OW_ACTIVATION_ID,
                     action: process.env.__OW_ACTION_NAME, key: process.env.__OW_API_KEY || null,
                     deadline: Number(process.env.__OW_DEADLINE) };
        }
    """
    assert api.put(f"{NS}/actions/{name}", node_action(source)).status_code == 200
    act = invoke(api, name, {"who": "world"})
    result = act["response"]["result"]
    assert act["response"]["status"] == "success"
    assert result["who"] == "world" and result["id"] == act["activationId"]
    assert result["action"] == f"/guest/{name}"
    assert result["key"] is None  # no provide-api-key annotation: no key (OpenWhisk default)
    assert result["deadline"] > act["start"]
    assert act["logs"][0].endswith("stdout: hello world") and "stderr: to stderr" in act["logs"][1]
    assert act["logs"][0][:4].isdigit() and act["logs"][0][30] == " "  # timestamp, padded to 30


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_large_multibyte_parameters_reach_a_warm_process_intact_read_after_read(
    api: Client,
) -> None:
    """The launcher reads its messages through one reused buffer (64 KiB): a message many
    reads long, with characters of two to four bytes cut at every kind of boundary, must
    arrive whole, and the next one after it on the same process too."""
    name = unique()
    source = """
        const TOKEN = Math.random();
        function main(params) {
            return { text: params.text, n: params.n, token: TOKEN };
        }
    """
    assert api.put(f"{NS}/actions/{name}", node_action(source)).status_code == 200
    runs = []
    for n, size in enumerate((70_001, 3, 120_003, 65_535)):
        text = ("é😀中a" * size)[:size]
        act = invoke(api, name, {"text": text, "n": n})
        assert act["response"]["status"] == "success", act["response"]
        result = act["response"]["result"]
        assert result["n"] == n and result["text"] == text
        runs.append(result["token"])
    assert len(set(runs)) == 1  # one warm process read all four


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_an_actions_own_stdout_wrapper_gets_the_sentinel_as_a_string(api: Client) -> None:
    """With output still queued at the end (over a pipe's worth), the sentinel goes through
    process.stdout.write as the runtime's console.log does: as a string. A wrapper using
    string methods on it must not fail on it (and lose the sentinel, which leaves the runner
    waiting out its grace on every activation)."""
    name = unique()
    source = """
        const seen = [];
        const write = process.stdout.write.bind(process.stdout);
        process.stdout.write = (chunk, ...rest) => {
            seen.push(typeof chunk);
            return write(chunk.replace(/secret/g, '***'), ...rest);
        };
        function main() {
            const big = 'secret'.repeat(30000);
            return new Promise((done) => {
                process.stdout.write(big + '\\n', () => process.stdout.write(big + '\\n'));
                done({ seen: [...new Set(seen)] });
            });
        }
    """
    assert api.put(f"{NS}/actions/{name}", node_action(source)).status_code == 200
    first, second = invoke(api, name), invoke(api, name)
    for act in (first, second):
        assert act["response"]["status"] == "success", act["response"]
        assert [line[39:49] for line in act["logs"]] == ["**********"] * 2
    # The first activation's sentinel went through the wrapper too: every chunk a string.
    assert second["response"]["result"]["seen"] == ["string"]


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_async_main_rejection_and_undefined_are_mapped_as_the_runtime_does(api: Client) -> None:
    cases = {
        "async function main() { return {later: true} }": ("success", {"later": True}),
        "function main() { }": ("success", {}),
        "function main() { return Promise.reject(new Error('nope')) }": (
            "application error",
            "nope",
        ),
        "function main() { return 7 }": (
            "action developer error",
            {"error": "The action did not return a dictionary."},
        ),
        "function main() { throw new Error('boom') }": (
            "action developer error",
            {"error": "An error has occurred: Error: boom"},
        ),
    }
    for source, (status, expected) in cases.items():
        name = unique()
        api.put(f"{NS}/actions/{name}", node_action(source))
        response = invoke(api, name)["response"]
        assert response["status"] == status, source
        if status == "application error":
            error = response["result"]["error"]
            assert (error["name"], error["message"]) == ("Error", expected)
            assert "Error: nope" in error["stack"]
        else:
            assert response["result"] == expected, source


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_a_zip_with_package_json_main_and_node_modules_runs(api: Client) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("package.json", '{"name": "z", "main": "lib/entry.js"}')
        archive.writestr("lib/entry.js", "exports.main = (p) => ({ shout: require('loud')(p.w) })")
        archive.writestr("node_modules/loud/index.js", "module.exports = (s) => s.toUpperCase()")
    name = unique()
    body = {
        "exec": {
            "kind": "nodejs:20",
            "code": base64.b64encode(buffer.getvalue()).decode(),
            "binary": True,
        }
    }
    assert api.put(f"{NS}/actions/{name}", body).status_code == 200
    assert invoke(api, name, {"w": "hi"})["response"]["result"] == {"shout": "HI"}


@pytest.mark.skipif(NODE is None, reason="needs node on PATH")
def test_require_openwhisk_with_no_arguments_reaches_this_server(api: Client) -> None:
    # The guide's pattern: the web action starts the worker non-blocking with openwhisk().
    worker, starter = unique(), unique()
    api.put(f"{NS}/actions/{worker}", node_action("function main(p) { return {echo: p.n} }"))
    source = f"""
        const openwhisk = require('openwhisk');
        async function main(params) {{
            const ow = openwhisk();
            const started = await ow.actions.invoke({{ name: '{worker}', params: {{ n: params.n }} }});
            return {{ activationId: started.activationId }};
        }}
    """
    annotations = [{"key": "provide-api-key", "value": True}]
    api.put(f"{NS}/actions/{starter}", node_action(source, annotations=annotations))
    response = invoke(api, starter, {"n": 5})["response"]
    assert response["status"] == "success", response
    activation_id = response["result"]["activationId"]
    done = wait_for(
        lambda: api.get(f"{NS}/activations/{activation_id}").status_code == 200, timeout=30
    )
    assert done
    assert api.get(f"{NS}/activations/{activation_id}").json()["response"]["result"] == {"echo": 5}


def test_without_node_the_kinds_are_listed_and_invoking_names_the_fix(tmp_path: Path) -> None:
    # A PATH with python's folder only: no node (and so no bwrap either).
    bare = tmp_path / "bin"
    bare.mkdir()
    env = {"PATH": str(bare), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    env.update({k: v for k, v in os.environ.items() if k.startswith("PYTHON")})
    server = start_server(tmp_path / "data", env=env)
    try:
        assert any("nodejs kinds: stored but not run" in line for line in server.output)
        api = Client(server.url, GUEST_AUTH)
        nodejs = api.get("/").json()["runtimes"]["nodejs"]
        assert "nodejs:20" in [k["kind"] for k in nodejs]
        name = unique()
        api.put(f"{NS}/actions/{name}", node_action("function main() { return {} }"))
        response = invoke(api, name)["response"]
        assert response["status"] == "action developer error"
        assert response["result"]["error"] == (
            "The action kind 'nodejs:20' needs Node.js, which this local server cannot run: "
            "install Node.js 18 or newer and restart."
        )
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("archive", "answer", "logged"),
    [
        (
            b"\x1f\x8b\x08\x00" + b"\x00" * 16,
            "There was an error uncompressing the action archive. The file type is unsupported",
            "localwhisk unpacks zip archives only: zip the action instead of tar.gz.",
        ),
        (
            b"PK\x03\x04 broken",
            "There was an error uncompressing the action Zip archive.",
            "Invalid zip file",
        ),
    ],
)
def test_an_archive_node_cannot_unpack_is_answered_in_the_runtimes_words(
    api: Client, archive: bytes, answer: str, logged: str
) -> None:
    name = unique()
    code = base64.b64encode(archive).decode()
    body = {"exec": {"kind": "nodejs:20", "code": code, "binary": True}}
    assert api.put(f"{NS}/actions/{name}", body).status_code == 200
    act = invoke(api, name)
    assert act["response"]["result"] == {"error": f"Initialization has failed due to: {answer}"}
    assert any(logged in line for line in act["logs"]), act["logs"]
