"""The runtime manifest this server offers (``GET /`` lists it, ``PUT`` checks kinds).

``GET /`` lists the kinds the runner executes for real: Python and Node.js.
``python:3.10`` and ``nodejs:20`` are the defaults as in OpenWhisk's current manifest
(apache/openwhisk ``ansible/files/runtimes.json``); ``python:3`` (the historic default
kind) and ``python:3.9`` are accepted because apache/openwhisk-runtime-python still
builds them (``core/python3Action``, ``core/python39Action``). Every Node.js kind runs on
the machine's one ``node`` (``languages.find_node``), whatever its major version.

The other kinds platforms offer (``whiskfacts.runtimes``, the table the deploy tool warns
from) are *stored* (clients must not be refused), but not listed and not run: invoking
one is a developer error that says so (``runner``).
"""

from __future__ import annotations

from typing import Any

from whiskfacts.runtimes import ALL_KINDS
from whiskfacts.runtimes import DEFAULT_KINDS as PLATFORM_DEFAULTS

PYTHON_KINDS: tuple[tuple[str, str], ...] = (
    ("python:3.10", "openwhisk/action-python-v3.10:nightly"),
    ("python:3.11", "openwhisk/action-python-v3.11:nightly"),
    ("python:3.12", "openwhisk/action-python-v3.12:nightly"),
    ("python:3.9", "openwhisk/action-python-v3.9:nightly"),
    ("python:3", "openwhisk/python3action:nightly"),
)
NODEJS_KINDS: tuple[tuple[str, str], ...] = (
    ("nodejs:18", "openwhisk/action-nodejs-v18:nightly"),
    ("nodejs:20", "openwhisk/action-nodejs-v20:nightly"),
    ("nodejs:22", "openwhisk/action-nodejs-v22:nightly"),
)
LISTED = {"python": PYTHON_KINDS, "nodejs": NODEJS_KINDS}
DEFAULT_KINDS = {family: PLATFORM_DEFAULTS[family] for family in LISTED}
LISTED_KINDS = tuple(kind for kinds in LISTED.values() for kind, _ in kinds)
STORED_ONLY_KINDS = tuple(kind for kind in ALL_KINDS if kind not in LISTED_KINDS)
KINDS = frozenset(LISTED_KINDS) | frozenset(STORED_ONLY_KINDS)
# What the runtime executes: every listed kind, and ``<family>:default`` as sent by clients.
RUNNABLE_KINDS = frozenset(LISTED_KINDS) | {f"{family}:default" for family in LISTED}


def _version(kind: str) -> tuple[int, ...]:
    _, _, version = kind.partition(":")
    return tuple(int(part) for part in version.split(".")) if version[:1].isdigit() else (1 << 30,)


def cannot_run_message(kind: str) -> str:
    """The developer error of invoking a kind that is stored but not run here."""
    names = sorted(
        RUNNABLE_KINDS, key=lambda name: (name.partition(":")[0] != "python", _version(name))
    )
    listed = ", ".join(names[:-1]) + " and " + names[-1]
    return f"The action kind '{kind}' cannot run on this local server; it runs {listed}."


def manifest() -> dict[str, list[dict[str, Any]]]:
    return {
        family: [
            {
                "kind": kind,
                "image": image,
                "deprecated": False,
                "default": kind == DEFAULT_KINDS[family],
                "attached": True,
                "requireMain": False,
            }
            for kind, image in kinds
        ]
        for family, kinds in LISTED.items()
    }


def resolve_kind(kind: str) -> str | None:
    """The concrete kind for a requested one (``python:default`` -> the default), or None."""
    family, _, version = kind.partition(":")
    if version == "default":
        return DEFAULT_KINDS.get(family)
    return kind if kind in KINDS else None


def valid_kinds() -> list[str]:
    return [*LISTED_KINDS, *STORED_ONLY_KINDS]
