"""What each Python kind's runtime image holds: its Python version and preinstalled packages.

The lists in ``python/<version>.txt`` are the images' own requirement files
(apache/openwhisk-runtime-python ``core/python3*Action/requirements.txt`` and
``core/requirements_common.txt``), pinned as the images pin them. ``python:3`` is the
historic ``openwhisk/python3action`` image, Python 3.7, last built from that repository's
``core/python3Action`` before it was dropped. Data only: no files are read at import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

LISTS = Path(__file__).resolve().parent / "python"
# The image's Dockerfile runs this before the requirement list (unpinned, as it does).
UPGRADE_FIRST = ("pip", "six", "wheel")


@dataclass(frozen=True)
class Image:
    kind: str  # "python:3.11"
    python: str  # the Python version the image runs, "3.11"
    list_name: str  # the requirement list in LISTS

    @property
    def requirements(self) -> Path:
        return LISTS / self.list_name

    def requirements_text(self) -> str:
        return self.requirements.read_text(encoding="utf-8")


IMAGES = {
    image.kind: image
    for image in (
        Image("python:3", "3.7", "3.txt"),
        Image("python:3.9", "3.9", "3.9.txt"),
        Image("python:3.10", "3.10", "3.10.txt"),
        Image("python:3.11", "3.11", "3.11.txt"),
        Image("python:3.12", "3.12", "3.12.txt"),
    )
}
