"""A package index made in the test: a pure-Python wheel written by hand (no build tool,
no network), for pip to install from a folder (``--find-links``, ``PIP_FIND_LINKS``)."""

from __future__ import annotations

import zipfile
from pathlib import Path

WHEEL = "lwdemo-1.0-py3-none-any.whl"
GREETING = "from a wheel"


def write_wheel(folder: Path) -> Path:
    """``lwdemo`` 1.0 in ``folder``; its path."""
    files = {
        "lwdemo/__init__.py": f"GREETING = {GREETING!r}\n",
        "lwdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: lwdemo\nVersion: 1.0\n",
        "lwdemo-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = "".join(f"{name},,\n" for name in files) + "lwdemo-1.0.dist-info/RECORD,,\n"
    path = folder / WHEEL
    with zipfile.ZipFile(path, "w") as wheel:
        for name, text in {**files, "lwdemo-1.0.dist-info/RECORD": record}.items():
            wheel.writestr(name, text)
    return path
