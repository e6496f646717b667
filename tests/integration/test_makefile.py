"""The Makefile's deploy targets as a user runs them: options passed through, the port followed.

``make plan`` / ``make deploy`` against a real localwhisk on port 0. The virtual
environment's stamp is taken as made (``-o``) and the interpreter is this one (``PY=``),
so the test never reinstalls anything; what it checks is what make hands the deploy tool.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from serverprocess import GUEST_AUTH, ROOT

KEY = ":".join(GUEST_AUTH)
MANIFEST = """\
project:
  name: make-args
  packages:
    default:
      triggers:
        made-by-hand: {}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("makefile-data"))
    yield proc
    proc.stop()


def make(
    target: str, *assignments: str, home: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith(("WHISK_", "AIO_", "WSK_", "LOCALWHISK_", "LW_", "MAKE"))
    }
    done = subprocess.run(
        [
            "make",
            "--no-print-directory",
            "-o",
            ".venv/.installed",
            f"PY={sys.executable}",
            target,
            *assignments,
        ],
        cwd=ROOT,
        env={**clean, "HOME": str(home), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert KEY.split(":")[1] not in done.stdout + done.stderr, "the API key was printed"
    return done


def test_the_local_default_follows_lw_port_and_args_reach_the_tool(server, tmp_path) -> None:
    # `LW_PORT=N make ...` starts localwhisk on N (make up); the tool must look there too
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST)
    port = str(urlsplit(server.url).port)
    done = make("plan", f"LW_PORT={port}", f"MANIFEST={manifest}", "ARGS=--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout.split("\n", 1)[1])  # after make's echo of the command
    assert document["target"] == {
        "apihost": f"http://127.0.0.1:{port}",
        "namespace": "guest",
        "source": "local default",
    }


def test_make_deploy_passes_force_to_the_tool(server, tmp_path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(MANIFEST)
    made = requests.put(
        f"{server.url}/api/v1/namespaces/_/triggers/made-by-hand",
        json={},
        auth=GUEST_AUTH,
        timeout=30,
    )
    assert made.status_code == 200, made.text
    # a configured target: make does not start a local server
    env = {"WHISK_APIHOST": server.url, "WHISK_AUTH": KEY}
    refused = make("deploy", f"MANIFEST={manifest}", home=tmp_path, **env)
    assert refused.returncode != 0 and "deploy with --force" in refused.stderr
    forced = make("deploy", f"MANIFEST={manifest}", "ARGS=--force", home=tmp_path, **env)
    assert forced.returncode == 0, forced.stderr
    assert "--force: taking it over" in forced.stdout
    gone = make(
        "undeploy", f"MANIFEST={manifest}", "ARGS=--projectname make-args", home=tmp_path, **env
    )
    assert gone.returncode == 0, gone.stderr
    assert "delete    trigger  made-by-hand" in gone.stdout


def test_make_up_on_a_busy_port_says_so_once_with_the_way_out(tmp_path) -> None:
    import socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        done = make(
            "up",
            f"LW_PORT={port}",
            f"LW_DIR={tmp_path / 'lw'}",
            "-o",
            "node-deps",
            "-o",
            "runtimes",
            home=tmp_path,
        )
    finally:
        taken.close()
    said = done.stdout + done.stderr
    assert done.returncode != 0
    assert said.count(f"cannot listen on 127.0.0.1:{port}: address already in use") == 1, said
    assert said.count("LW_PORT=N make deploy") == 1 and "Traceback" not in said
