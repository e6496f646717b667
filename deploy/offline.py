"""What ``validate`` can say about a manifest without a server: kinds and limits no platform offers.

Warnings only, from the table in ``whiskfacts.runtimes``: a server may offer more
(operators add kinds and widen limits), and its ``GET /`` is the authority that
``preflight`` checks before ``deploy`` writes anything. What this catches is the
typo (``pyhton:3.11``, ``timeout: 12000000``) while the user is still editing. Pure:
reads the ``Manifest`` only.
"""

from __future__ import annotations

import difflib

from deploy.models import ActionSpec, Manifest
from whiskfacts.runtimes import (
    ALL_KINDS,
    DEFAULT_KINDS,
    KNOWN_KINDS,
    PLATFORM_LIMITS,
    UNITS,
    is_known_kind,
)

# The action body's limit fields, as the manifest spells them.
MANIFEST_KEYS = {
    "timeout": "timeout",
    "memory": "memorySize",
    "logs": "logSize",
    "concurrency": "concurrency",
}
AUTHORITY = "the server's GET / decides at deploy"


def check(manifest: Manifest) -> list[str]:
    """One warning per runtime no known platform offers and per limit outside all their ranges."""
    warnings: list[str] = []
    for action in manifest.actions:
        where = str(action.where) if action.where else f"action {action.path}"
        kind = _kind_warning(action)
        if kind:
            warnings.append(f"{where}.runtime: {kind}")
        warnings.extend(f"{where}.limits.{text}" for text in _limit_warnings(action))
    return warnings


def _kind_warning(action: ActionSpec) -> str | None:
    kind = action.runtime
    family, colon, _ = kind.partition(":")
    if not kind or action.inferred_runtime or is_known_kind(kind):
        return None  # inferred: from the file's extension, deploy maps it to what GET / lists
    if not colon and (family.partition("@")[0] in KNOWN_KINDS):
        return None  # a family (``python``, ``python@3``): its default is the server's to pick
    if family in KNOWN_KINDS:
        offered = ", ".join(KNOWN_KINDS[family])
        extra = f", {family}:default" if family in DEFAULT_KINDS else ""
        return (
            f"runtime {kind!r} is not a {family} kind any known platform offers "
            f"(known: {offered}{extra}); {AUTHORITY}"
        )
    candidates = [*ALL_KINDS, *(f"{f}:default" for f in DEFAULT_KINDS)]
    close = difflib.get_close_matches(kind, candidates, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    families = ", ".join(KNOWN_KINDS)
    return (
        f"runtime {kind!r} is not a kind any known platform offers ({hint}known families: "
        f"{families}); {AUTHORITY}"
    )


def _limit_warnings(action: ActionSpec) -> list[str]:
    out = []
    for field, key in MANIFEST_KEYS.items():
        value = getattr(action.limits, field)
        if value is None:
            continue
        ranges = {name: limits[field] for name, limits in PLATFORM_LIMITS.items()}
        if any(r.low <= value <= r.high for r in ranges.values()):
            continue
        unit = f" {UNITS[field]}" if UNITS[field] else ""
        shown = ", ".join(f"{name} {r.low}-{r.high}{unit}" for name, r in ranges.items())
        out.append(
            f"{key}: {value}{unit} is outside every known platform's range ({shown}); {AUTHORITY}"
        )
    return out
