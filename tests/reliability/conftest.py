"""Fixtures for the reliability tests: one real localwhisk, a fault proxy in front of it.

The server comes from ``serverprocess.start_server``, which starts every test server.
The namespace is shared by the tests of this folder: each scenario leaves ``rel-app``
undeployed and the ``bystander`` project and hand-made action in place, which every
undeploy check verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from faultproxy import FaultProxy
from harness import setup_bystanders
from serverprocess import start_server


@pytest.fixture(scope="session")
def rel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start_server(tmp_path_factory.mktemp("reliability-data"))
    try:
        setup_bystanders(
            server.url,
            tmp_path_factory.mktemp("bystander"),
            tmp_path_factory.mktemp("bystander-home"),
        )
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def proxy(rel_server: str) -> Iterator[FaultProxy]:
    with FaultProxy(rel_server) as fronting:
        yield fronting


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME: no ~/.wskprops of the machine running the tests."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder
