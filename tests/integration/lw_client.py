"""Helpers for the integration tests: a small ``requests`` client, names, polling.

Imported by the test modules and ``conftest`` (tests/ is not a package).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import requests

T = TypeVar("T")
NS = "/api/v1/namespaces/_"
ECHO = "def main(args):\n    print('echo', sorted(args))\n    return args\n"
FAILS = 'def main(args):\n    return {"error": "nope"}\n'
CRASH = "def main(args):\n    return 'not a dict'\n"
ARRAY = "def main(args):\n    return [1, 2, 3]\n"
SLEEPY = (
    "import time\ndef main(args):\n    time.sleep(float(args.get('s', 0)))\n"
    "    return {'slept': args.get('s', 0)}\n"
)


class Client:
    def __init__(self, url: str, auth: tuple[str, str] | None) -> None:
        self.url = url
        self.session = requests.Session()
        self.session.auth = auth

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=90, **kwargs)

    def put(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, json=body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=body if body is not None else {}, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)


def unique(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code(source: str, **extra: Any) -> dict[str, Any]:
    return {"exec": {"kind": "python:3.11", "code": source}, **extra}


def finished(api: Client, activation_id: str) -> dict[str, Any] | None:
    """The activation once it is stored (the platform answers 404 while it runs)."""
    response = api.get(f"{NS}/activations/{activation_id}")
    return response.json() if response.status_code == 200 else None


def wait_for(
    predicate: Callable[[], T | None], timeout: float = 30.0, what: str = "condition"
) -> T:
    """Poll ``predicate`` until it returns something other than None/False; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value is not None and value is not False:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what}")
        time.sleep(0.05)  # poll interval, not a wait for an event
