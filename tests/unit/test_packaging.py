"""pyproject.toml in the form the pinned build backend takes without a deprecation warning.

setuptools 77 reads ``project.license`` as an SPDX expression string (PEP 639) and warns,
on each of the three hooks pip calls for ``make venv``, when it is the older
``{text = ...}`` table; before 77 the string form is a configuration error. A build needs
the network (pip fetches the backend), so this reads the file rather than building it.
"""

from __future__ import annotations

from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the same parser, as pip vendors it
    from pip._vendor import tomli as tomllib

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_license_is_an_spdx_expression_and_the_backend_reads_one() -> None:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert config["project"]["license"] == "Apache-2.0"
    [backend] = [Requirement(r) for r in config["build-system"]["requires"]]
    assert backend.name == "setuptools"
    lowest = min(Version(s.version) for s in backend.specifier if s.operator == ">=")
    assert lowest >= Version("77")
    assert not any(c.startswith("License ::") for c in config["project"].get("classifiers", []))
