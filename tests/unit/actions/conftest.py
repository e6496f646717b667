"""Loads each action's ``__main__.py`` by path, as the runtime does, without importing packages."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ACTIONS = Path(__file__).resolve().parents[3] / "actions"


def load_action(folder: str) -> ModuleType:
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
