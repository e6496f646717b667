"""The deploy tool run as a user runs it, for the integration tests: a clean environment,
a whole ``python -m deploy`` process, and what a namespace holds afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests
from serverprocess import GUEST_AUTH

WORKER_RESULT = {"statusCode": 200, "body": {"payload": "Hello from the long running job!"}}
KEY = ":".join(GUEST_AUTH)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any OpenWhisk credentials, plus `extra`."""
    env = {
        k: v for k, v in os.environ.items() if not k.upper().startswith(("WHISK_", "AIO_", "WSK_"))
    }
    env["HOME"] = str(home)  # no ~/.wskprops from the machine running the tests
    env.update(extra)
    return env


def owdeploy(bundle: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "deploy", *args],
        cwd=bundle,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert KEY.split(":")[1] not in done.stdout + done.stderr, "the API key was printed"
    return done


def names(server: Any, collection: str) -> list[str]:
    response = requests.get(
        f"{server.url}/api/v1/namespaces/_/{collection}", auth=GUEST_AUTH, timeout=30
    )
    response.raise_for_status()
    return sorted(e["name"] for e in response.json())
