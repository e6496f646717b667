"""Zips hold only the project's own files, and a too-large action fails before any request.

Through the whole CLI (``deploy`` in this process, aimed at the fault proxy so
every request would be counted): a 100 MB action folder of incompressible data
fails with OpenWhisk's 48 MB exec limit named; a symlink leaving the action
folder, an ``include`` whose source is (or holds) a symlink leaving the
manifest's folder, and absolute or ``..`` include paths are refused. Each exits 2
naming the manifest entry, and the proxy saw no request at all. The unit-level
cases are in ``tests/unit/deploy/test_bundle.py``.
"""

from __future__ import annotations

import random
import time
import tracemalloc
from pathlib import Path

import pytest
from harness import run_here

from deploy.bundle import EXEC_LIMIT

HELLO = "def main(args):\n    return args\n"


def project(root: Path, action: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "__main__.py").write_text(HELLO)
    (root / "manifest.yaml").write_text(
        "project:\n  name: limits\n  packages:\n    default:\n      actions:\n"
        f"        big:\n          function: src\n          runtime: python:3.11\n{action}"
    )
    return root


def deploy_refused(proxy, home, folder: Path) -> str:
    proxy.begin(f"bundle-{folder.name}")
    done = run_here(folder, proxy.url, home, "deploy")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert proxy.of(proxy.run) == [], "a request was sent before the bundle was refused"
    return done.stderr


def test_a_100_mb_action_folder_fails_on_the_exec_limit_before_any_request(proxy, home, tmp_path):
    folder = project(tmp_path / "big", "")
    rng = random.Random(5)  # seeded, and random bytes do not compress: the zip stays ~100 MB
    for part in range(4):
        (folder / "src" / f"blob{part}.bin").write_bytes(rng.randbytes(25 * 1024 * 1024))
    assert sum(f.stat().st_size for f in (folder / "src").iterdir()) >= 100 * 1024 * 1024
    started = time.monotonic()
    err = deploy_refused(proxy, home, folder)
    assert f"expected code of at most {EXEC_LIMIT} bytes as sent (base64)" in err
    assert "manifest.yaml:6: project.packages.default.actions.big: action big:" in err
    assert time.monotonic() - started < 30, "the zip should stop once past the limit"


def test_one_huge_file_is_refused_without_compressing_all_of_it(tmp_path):
    from deploy.bundle import build_artifact
    from deploy.errors import BundleError
    from deploy.models import ActionSpec

    src = tmp_path / "src"
    src.mkdir()
    (src / "__main__.py").write_text(HELLO)
    (src / "huge.bin").write_bytes(random.Random(6).randbytes(100 * 1024 * 1024))
    spec = ActionSpec(package=None, name="huge", runtime="python:3.11", function=src)
    tracemalloc.start()
    try:
        with pytest.raises(BundleError) as caught:
            build_artifact(spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert f"expected code of at most {EXEC_LIMIT} bytes" in str(caught.value)
    # the zip grows to the limit (36 MB raw) and stops: not the 100 MB of the whole file
    assert peak < 80 * 1024 * 1024, f"peak {peak / 2**20:.0f} MB"


def test_a_symlink_leaving_the_action_folder_is_refused(proxy, home, tmp_path):
    folder = project(tmp_path / "leaky", "")
    (tmp_path / "secret.txt").write_text("s")
    (folder / "src" / "leak.txt").symlink_to(tmp_path / "secret.txt")
    err = deploy_refused(proxy, home, folder)
    assert "expected a symlink inside" in err and "secret.txt" in err


@pytest.mark.parametrize("kind", ["file", "folder"])
def test_an_include_source_that_links_out_of_the_manifest_folder_is_refused(
    proxy, home, tmp_path, kind
):
    outside = tmp_path / "outside"
    (outside / "private").mkdir(parents=True)
    (outside / "private" / "id_rsa").write_text("not for the zip")
    folder = project(
        tmp_path / f"include-{kind}", "          include:\n            - [lib/*, lib/]\n"
    )
    (folder / "lib").mkdir()
    (folder / "lib" / "ok.py").write_text(HELLO)
    if kind == "file":
        (folder / "lib" / "id_rsa").symlink_to(outside / "private" / "id_rsa")
    else:
        (folder / "lib" / "private").symlink_to(outside / "private", target_is_directory=True)
    err = deploy_refused(proxy, home, folder)
    assert "expected a path inside" in err and str(outside / "private") in err


@pytest.mark.parametrize(
    "pair, expected",
    [
        ("[/etc/hostname, x]", "found absolute path '/etc/hostname'"),
        ("[../secret.py, x]", "found '../secret.py' (leaves it with ..)"),
        ("[src/__main__.py, /abs]", "expected a destination path"),
        ("[src/__main__.py, ../up]", "expected a destination path"),
    ],
)
def test_absolute_and_dotdot_include_paths_are_refused(proxy, home, tmp_path, pair, expected):
    folder = project(tmp_path / "inc", f"          include:\n            - {pair}\n")
    err = deploy_refused(proxy, home, folder)
    assert "project.packages.default.actions.big.include[0]" in err
    assert expected in err
