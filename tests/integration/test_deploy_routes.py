"""A manifest with ``apis:`` deployed and undeployed by ``python -m deploy`` on a real localwhisk.

deploy prints the route URLs -> a route answers with its path parameter -> an unchanged
redeploy is a no-op -> a route removed from the manifest is deleted -> undeploy leaves no
API behind. Its own server keeps the namespace to this module.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from serverprocess import GUEST_AUTH

pytestmark = pytest.mark.integration

KEY = ":".join(GUEST_AUTH)
BOOKS = """
def main(args):
    parts = args.get("__ow_path", "").strip("/").split("/")
    return {"statusCode": 200, "body": {"isbn": parts[2] if len(parts) > 2 else None}}
"""
HELLO = "def main(args):\n    return {'greeting': 'hello ' + args.get('name', 'world')}\n"
MANIFEST = """
project:
  name: book-club
packages:
  club:
    actions:
      books:
        function: books.py
        web: true
      hello:
        function: hello.py
    apis:
      book-club:
        club:
          books/{isbn}:
            books:
              method: GET
              response: http
      hello-world:
        hello:
          world:
            hello:
              method: GET
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("deploy-routes-data"))
    yield proc
    proc.stop()


def owdeploy(folder: Path, server: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("WHISK_", "AIO_", "WSK_"))
    }
    env.update(HOME=str(folder), WHISK_APIHOST=server.url, WHISK_AUTH=KEY)
    done = subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert GUEST_AUTH[1] not in done.stdout + done.stderr, "the API key was printed"
    return done


def apis(server: Any) -> list[dict[str, Any]]:
    response = requests.get(
        f"{server.url}/api/v1/web/whisk.system/apimgmt/getApi.http", auth=GUEST_AUTH, timeout=30
    )
    response.raise_for_status()
    return response.json()["apis"]


def test_routes_deploy_answer_stay_put_and_go(server: Any, tmp_path: Path) -> None:
    (tmp_path / "books.py").write_text(BOOKS)
    (tmp_path / "hello.py").write_text(HELLO)
    (tmp_path / "manifest.yaml").write_text(MANIFEST)

    first = owdeploy(tmp_path, server, "deploy", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    routes = {r["route"]: r for r in report["routes"]}
    assert set(routes) == {"GET /club/books/{isbn}", "GET /hello/world"}
    tenant = f"{server.url}/api/{GUEST_AUTH[0]}"
    assert routes["GET /hello/world"]["url"] == f"{tenant}/hello/world"
    assert "hello" in first.stderr and "is not a web action" in first.stderr  # made one

    book = requests.get(f"{tenant}/club/books/978-0596517748", timeout=90)
    assert book.status_code == 200 and book.json() == {"isbn": "978-0596517748"}
    hello = requests.get(f"{tenant}/hello/world", params={"name": "route"}, timeout=90)
    assert hello.json() == {"greeting": "hello route"}

    again = owdeploy(tmp_path, server, "deploy")
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout
    assert "GET /hello/world -> club/hello:" in again.stdout  # the URLs, printed again

    (tmp_path / "manifest.yaml").write_text(MANIFEST.split("      hello-world:")[0])
    fewer = owdeploy(tmp_path, server, "deploy")
    assert fewer.returncode == 0, fewer.stderr
    assert "- delete    api      GET /hello/world: removed from the manifest" in fewer.stdout
    assert requests.get(f"{tenant}/hello/world", timeout=90).status_code == 404
    [left] = apis(server)
    assert list(left["value"]["apidoc"]["paths"]) == ["/books/{isbn}"]

    gone = owdeploy(tmp_path, server, "undeploy")
    assert gone.returncode == 0, gone.stderr
    assert "- delete    api      GET /club/books/{isbn}" in gone.stdout
    assert apis(server) == []
    assert requests.get(f"{tenant}/club/books/1", timeout=90).status_code == 404
