"""The action kinds and per-action limits OpenWhisk platforms offer, known without a server.

A server's ``GET /`` is the authority (the deploy tool's preflight reads it); this table
is what may be said before there is one: ``validate`` warns from it; localwhisk
accepts exactly these kinds, and its ``adobe`` and ``openwhisk`` profiles enforce these ranges.

Kinds: OpenWhisk's default runtime manifest (apache/openwhisk ``ansible/files/runtimes.json``:
nodejs:18/20, python:3.10/3.11, swift, java, php, ruby, go, dotnet, rust), the kinds the
runtime repositories build besides (apache/openwhisk-runtime-python ``core/``: python:3,
the default kind until 2023, python:3.9 and python:3.12), Node.js 22 as Adobe I/O Runtime
offers it (developer.adobe.com/app-builder/docs/guides/runtime_guides/reference_docs/runtimes),
and ``blackbox`` (docker actions).

Limits: OpenWhisk's default configuration (``common/scala/src/main/resources/application.conf``,
``time-limit``, ``memory``, ``log-limit``, ``concurrency-limit``; docs/reference.md) and
Adobe I/O Runtime's (developer.adobe.com/app-builder/docs/guides/runtime_guides/system-settings).
Units are the action body's: ms for timeout, MB for memory and logs.
"""

from __future__ import annotations

from typing import NamedTuple

# family -> kinds, the family's default first among OpenWhisk's (``DEFAULT_KINDS``).
KNOWN_KINDS: dict[str, tuple[str, ...]] = {
    "python": ("python:3.10", "python:3.11", "python:3.12", "python:3.9", "python:3"),
    "nodejs": ("nodejs:18", "nodejs:20", "nodejs:22"),
    "swift": ("swift:5.3", "swift:5.7"),
    "java": ("java:8",),
    "php": ("php:8.1",),
    "ruby": ("ruby:2.5",),
    "go": ("go:1.20",),
    "dotnet": ("dotnet:3.1", "dotnet:6.0"),
    "rust": ("rust:1.34",),
    "blackbox": ("blackbox",),
}
# The kind ``<family>:default`` stands for, as OpenWhisk's default manifest marks it.
DEFAULT_KINDS: dict[str, str] = {
    "python": "python:3.10",
    "nodejs": "nodejs:20",
    "swift": "swift:5.3",
    "java": "java:8",
    "php": "php:8.1",
    "ruby": "ruby:2.5",
    "go": "go:1.20",
    "dotnet": "dotnet:3.1",
    "rust": "rust:1.34",
}
ALL_KINDS: tuple[str, ...] = tuple(kind for kinds in KNOWN_KINDS.values() for kind in kinds)


class Range(NamedTuple):
    low: int
    high: int
    default: int


# limit (the action body's ``limits`` key) -> its unit, for messages.
UNITS = {"timeout": "ms", "memory": "MB", "logs": "MB", "concurrency": ""}
OPENWHISK_LIMITS: dict[str, Range] = {
    "timeout": Range(100, 300_000, 60_000),
    "memory": Range(128, 512, 256),
    "logs": Range(0, 10, 10),
    "concurrency": Range(1, 1, 1),
}
ADOBE_LIMITS: dict[str, Range] = {
    "timeout": Range(100, 10_800_000, 60_000),
    "memory": Range(128, 4096, 256),
    "logs": Range(0, 10, 10),
    "concurrency": Range(1, 500, 200),
}
# platform name -> its limits, for "outside every known platform's range".
PLATFORM_LIMITS: dict[str, dict[str, Range]] = {
    "OpenWhisk (default configuration)": OPENWHISK_LIMITS,
    "Adobe I/O Runtime": ADOBE_LIMITS,
}


def is_known_kind(kind: str) -> bool:
    """A kind of the table, or ``<family>:default`` of one of its families."""
    family, _, version = kind.partition(":")
    return kind in ALL_KINDS or (version == "default" and family in DEFAULT_KINDS)
