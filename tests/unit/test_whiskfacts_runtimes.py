"""The platform table both sides read: localwhisk offers kinds of it, its defaults are its own."""

from __future__ import annotations

from localwhisk.runtime import kinds
from whiskfacts.runtimes import (
    ADOBE_LIMITS,
    ALL_KINDS,
    DEFAULT_KINDS,
    KNOWN_KINDS,
    OPENWHISK_LIMITS,
    PLATFORM_LIMITS,
    is_known_kind,
)


def test_localwhisk_stores_exactly_the_known_kinds_and_runs_some_of_them() -> None:
    assert kinds.KINDS == frozenset(ALL_KINDS)
    assert set(kinds.LISTED_KINDS) <= set(ALL_KINDS)
    assert kinds.DEFAULT_KINDS == {"python": "python:3.10", "nodejs": "nodejs:20"}
    assert kinds.valid_kinds()[:2] == ["python:3.10", "python:3.11"]


def test_every_family_default_is_one_of_its_kinds() -> None:
    for family, kind in DEFAULT_KINDS.items():
        assert kind in KNOWN_KINDS[family]


def test_known_kinds_take_the_family_default_form_only_for_known_families() -> None:
    assert is_known_kind("python:3.11") and is_known_kind("nodejs:default")
    assert not is_known_kind("pyhton:3.11") and not is_known_kind("cobol:default")
    assert not is_known_kind("python:3.13")


def test_each_platform_range_holds_its_default() -> None:
    for limits in PLATFORM_LIMITS.values():
        assert set(limits) == set(OPENWHISK_LIMITS)
        assert all(r.low <= r.default <= r.high for r in limits.values())


def test_localwhisks_platform_profiles_enforce_the_table_validate_warns_from() -> None:
    from localwhisk.profiles import ADOBE, OPENWHISK

    for limits, table in ((ADOBE, ADOBE_LIMITS), (OPENWHISK, OPENWHISK_LIMITS)):
        for name, r in table.items():
            got = tuple(getattr(limits, f"{name}_{end}") for end in ("min", "max", "default"))
            assert got == (r.low, r.high, r.default), name
