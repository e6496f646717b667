"""Fixtures for the integration tests: one real localwhisk per session, clients, polling.

The server is started by ``serverprocess.start_server`` (``python -m localwhisk --port
0``, bounded wait for its ready line) and yields its URL. Set ``OW_TEST_APIHOST`` (and
optionally ``OW_TEST_AUTH`` as ``uuid:key``) to run the same tests against another
OpenWhisk instead. ``start_localwhisk`` hands ``start_server`` to tests that restart.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lw_client import Client, wait_for
from serverprocess import GUEST_AUTH, ServerProcess, start_server


@pytest.fixture(scope="session")
def localwhisk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    external = os.environ.get("OW_TEST_APIHOST")
    if external:
        yield ServerProcess(external.rstrip("/"), Path(), None)
        return
    server = start_server(tmp_path_factory.mktemp("localwhisk-data"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def localwhisk_url(localwhisk_server: ServerProcess) -> str:
    return localwhisk_server.url


@pytest.fixture(scope="session")
def guest_auth() -> tuple[str, str]:
    external = os.environ.get("OW_TEST_AUTH")
    if external:
        uuid, _, key = external.partition(":")
        return uuid, key
    return GUEST_AUTH


@pytest.fixture
def api(localwhisk_url: str, guest_auth: tuple[str, str]) -> Iterator[Client]:
    client = Client(localwhisk_url, guest_auth)
    yield client
    client.session.close()


@pytest.fixture(name="wait_for")
def wait_for_fixture() -> Callable[..., Any]:
    """``wait_for(predicate, timeout)``: poll with a hard bound."""
    return wait_for


@pytest.fixture(scope="session")
def start_localwhisk() -> Callable[..., ServerProcess]:
    """Start extra servers (e.g. to restart on the same data directory)."""
    return start_server
