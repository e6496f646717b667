"""Loads each action's ``__main__.py`` by path, as the runtime does, without importing packages.

The action's folder goes first on ``sys.path``, as the runtime runs it from there, so its
own modules (``capability``, ``connections``, ``jobstatus``, ``whiskapi``) import as they do
on the platform. Their REST API is ``fakeapi``, a real HTTP server on a loopback port.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fakeapi import FakeApi

ACTIONS = Path(__file__).resolve().parents[3] / "actions"


def load_action(folder: str) -> ModuleType:
    if str(ACTIONS / folder) not in sys.path:
        sys.path.insert(0, str(ACTIONS / folder))
    spec = importlib.util.spec_from_file_location(
        f"action_{folder}", ACTIONS / folder / "__main__.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def worker() -> ModuleType:
    return load_action("worker")


@pytest.fixture(scope="session")
def web_action() -> ModuleType:
    return load_action("web_action")


@pytest.fixture(scope="session")
def jobstatus(web_action: ModuleType) -> ModuleType:
    """The status web action's module, as ``__main__.py`` imported it."""
    return sys.modules["jobstatus"]


@pytest.fixture(scope="session")
def capability(web_action: ModuleType) -> ModuleType:
    return sys.modules["capability"]


@pytest.fixture
def api() -> Iterator[FakeApi]:
    """A fake REST API on a loopback port; every request must have been scripted, and
    (when the test asked for it) every scripted one must have come: see ``fakeapi``."""
    fake = FakeApi()
    try:
        yield fake
    finally:
        fake.close()
    assert not fake.unexpected, f"requests nobody scripted: {fake.unexpected}"


@pytest.fixture
def connections(web_action: ModuleType) -> Iterator[ModuleType]:
    """Fresh keep-alive connections for one test, with a short read bound (0.5 s)."""
    made = sys.modules["connections"].Connections(connect_timeout=2.0, read_timeout=0.5)
    try:
        yield made
    finally:
        made.close()
