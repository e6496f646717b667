"""Each bundle against a target offering one runtime family, as Adobe I/O Runtime offers Node.js.

The project's own manifests and actions (copied), the CLI in process, and `responses`
playing the server: the Python bundle is refused before any write with an error naming
``manifest.nodejs.yaml``; the Node.js bundle passes and is written as plain source.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses
from responses import matchers

from deploy.cli import main
from deploy.http.sessions import requests_session

ROOT = Path(__file__).resolve().parents[3]
KEY = "0f0e0d0c-0b0a-4999-8888-777766665555:" + "Nd5" * 21 + "y"
HOST = "https://rt.example"
NS = f"{HOST}/api/v1/namespaces/guest"
ENV = {"WHISK_APIHOST": HOST, "WHISK_AUTH": KEY, "WHISK_NAMESPACE": "guest"}
NODE_ONLY = {
    "description": "OpenWhisk",
    "runtimes": {
        "nodejs": [
            {"kind": "nodejs:22", "default": True},
            {"kind": "nodejs:24", "default": False},
        ]
    },
}
LIST = matchers.query_param_matcher({"limit": "200", "skip": "0"})
COLLECTIONS = ("packages", "actions", "triggers", "rules")


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir()
    for name in ("manifest.yaml", "manifest.nodejs.yaml"):
        shutil.copy(ROOT / name, folder / name)
    shutil.copytree(
        ROOT / "actions", folder / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    monkeypatch.chdir(folder)  # as a user runs it, and as aio reads function: paths
    return folder


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def run(capsys: pytest.CaptureFixture[str], home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(
        list(argv), environ=ENV, home=home, sleep=lambda s: None, session=requests_session(HOST)
    )
    out, err = capsys.readouterr()
    assert KEY.split(":")[1] not in out + err, "the key was printed"
    return code, out, err


def serve_empty_namespace(rsps: responses.RequestsMock) -> None:
    rsps.get(f"{HOST}/", json=NODE_ONLY)
    for collection in COLLECTIONS:
        rsps.get(f"{NS}/{collection}", json=[], match=[LIST])


def sent(rsps: responses.RequestsMock) -> list[tuple[str, str]]:
    return [(c.request.method, c.request.url.split("?")[0]) for c in rsps.calls]


def test_the_python_bundle_is_refused_by_a_node_only_target_naming_the_node_manifest(
    capsys, bundle, rsps
) -> None:
    serve_empty_namespace(rsps)
    code, _, err = run(capsys, bundle, "deploy", "-m", "manifest.yaml")
    assert code == 2, err
    assert "Traceback" not in err
    assert (
        f"{HOST} offers only nodejs runtimes (nodejs:22, nodejs:24), and this manifest's"
        " actions need python (my-worker: python:3.11, status: python:3.11, test: python:3.11);"
        " deploy manifest.nodejs.yaml instead (python -m deploy deploy -m manifest.nodejs.yaml)"
    ) in err
    assert "is not offered" not in err  # one problem for the family, not one per action
    # reads only: GET / and the four lists, nothing written
    assert sent(rsps) == [("GET", f"{HOST}/")] + [("GET", f"{NS}/{c}") for c in COLLECTIONS]


def test_a_manifest_given_by_folder_names_its_neighbour_by_path(capsys, bundle, rsps) -> None:
    serve_empty_namespace(rsps)
    code, _, err = run(capsys, bundle.parent, "plan", "-m", str(bundle))
    assert code == 2
    assert f"deploy {bundle / 'manifest.nodejs.yaml'} instead" in err


def test_the_node_bundle_deploys_to_a_node_only_target_as_plain_source(
    capsys, bundle, rsps
) -> None:
    serve_empty_namespace(rsps)
    written: dict[str, dict[str, Any]] = {}

    def store(request: Any) -> tuple[int, dict[str, str], str]:
        path = request.url.split("?")[0].removeprefix(f"{NS}/")
        doc = json.loads(request.body)
        written[path] = doc
        name = path.rsplit("/", 1)[1]
        return 200, {}, json.dumps({**doc, "name": name, "namespace": "guest"})

    rsps.add_callback(responses.PUT, f"{NS}/packages/async-nodejs", callback=store)
    rsps.add_callback(responses.PUT, f"{NS}/actions/async-nodejs/my-worker", callback=store)
    rsps.add_callback(responses.PUT, f"{NS}/actions/async-nodejs/status", callback=store)
    rsps.add_callback(responses.PUT, f"{NS}/actions/async-nodejs/test", callback=store)
    rsps.add_callback(responses.PUT, f"{NS}/triggers/my-worker-trigger", callback=store)
    rsps.add_callback(responses.PUT, f"{NS}/rules/async-rule", callback=store)

    def read_back(request: Any) -> tuple[int, dict[str, str], str]:
        path = request.url.split("?")[0].removeprefix(f"{NS}/")
        return 200, {}, json.dumps({**written[path], "name": path.rsplit("/", 1)[1]})

    for action in ("my-worker", "status", "test"):  # deploy reads back what the server holds
        url = f"{NS}/actions/async-nodejs/{action}"
        rsps.add_callback(responses.GET, url, callback=read_back)

    code, out, err = run(capsys, bundle, "deploy", "-m", "manifest.nodejs.yaml")
    assert code == 0, err
    assert "warning" not in err, err
    worker = written["actions/async-nodejs/my-worker"]
    web = written["actions/async-nodejs/test"]
    assert worker["exec"] == {
        "kind": "nodejs:22",
        "binary": False,
        "code": (bundle / "actions/nodejs/worker.js").read_text(),
    }
    assert worker["limits"]["timeout"] == 120000
    assert web["exec"]["kind"] == "nodejs:22" and web["exec"]["binary"] is False
    annotations = {a["key"]: a["value"] for a in web["annotations"]}
    assert {k: annotations[k] for k in ("web-export", "raw-http", "final", "provide-api-key")} == {
        "web-export": True,
        "raw-http": False,
        "final": True,
        "provide-api-key": True,
    }
    assert web["parameters"] == [
        {"key": "worker_action", "value": "async-nodejs/my-worker"},
        {"key": "status_action", "value": "status"},
    ]
    status = written["actions/async-nodejs/status"]
    assert status["exec"] == {**web["exec"], "main": "status"}  # one file, two entry points
    assert written["rules/async-rule"]["action"] == "/guest/async-nodejs/my-worker"
    assert f"{HOST}/api/v1/web/guest/async-nodejs/test" in out
