"""The runtime manifest this server offers (``GET /`` lists it, ``PUT`` checks kinds).

Python only: the runner executes Python actions for real. ``python:3.10`` is the
default as in OpenWhisk's current manifest; ``python:3`` (the historic default kind)
and ``python:3.9`` are accepted because the fact sheet (§4.1) says a local server
should take every kind the Python runtime repository builds.
"""

from __future__ import annotations

from typing import Any

PYTHON_KINDS: tuple[tuple[str, str], ...] = (
    ("python:3.10", "openwhisk/action-python-v3.10:nightly"),
    ("python:3.11", "openwhisk/action-python-v3.11:nightly"),
    ("python:3.12", "openwhisk/action-python-v3.12:nightly"),
    ("python:3.9", "openwhisk/action-python-v3.9:nightly"),
    ("python:3", "openwhisk/python3action:nightly"),
)
DEFAULT_KINDS = {"python": "python:3.10"}
KINDS = frozenset(kind for kind, _ in PYTHON_KINDS)


def manifest() -> dict[str, list[dict[str, Any]]]:
    return {
        "python": [
            {
                "kind": kind,
                "image": image,
                "deprecated": False,
                "default": kind == DEFAULT_KINDS["python"],
                "attached": True,
                "requireMain": False,
            }
            for kind, image in PYTHON_KINDS
        ]
    }


def resolve_kind(kind: str) -> str | None:
    """The concrete kind for a requested one (``python:default`` -> the default), or None."""
    family, _, version = kind.partition(":")
    if version == "default":
        return DEFAULT_KINDS.get(family)
    return kind if kind in KINDS else None


def valid_kinds() -> list[str]:
    return [kind for kind, _ in PYTHON_KINDS]
