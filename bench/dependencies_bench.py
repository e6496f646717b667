"""Dependency figures (issue 13): first build, cached redeploy, zip sizes.

Two projects on one local server, each a Python action and a Node.js action: one with
dependencies (requirements.txt naming a C-extension wheel, a pure wheel and a pure sdist;
package.json naming an npm tarball, from its lockfile), one the same code without them.
The packages come from an index made here (``tests/localindex.py``), so no network is
used. Figures: the first deploy with an empty cache (pip and npm runs included); the
no-op redeploy of the project with dependencies against that of the project without
(alternated, medians, same run: goal 1.2x); and the zips each action sends.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.deploy_bench import _env, child, ms, row
from bench.process import start_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the local index the tests build
import localindex  # noqa: E402

MANIFEST = """\
project:
  name: {name}
packages:
  {name}:
    actions:
      compute:
        function: actions/compute
        runtime: {kind}
      pad:
        function: actions/pad
        runtime: nodejs:20
"""


def _projects(tmp: Path) -> tuple[Path, Path, dict[str, str]]:
    index = localindex.python_index(tmp / "index")
    tarballs = localindex.node_packages(tmp / "tarballs")
    with_deps, without = tmp / "with-deps", tmp / "without-deps"
    for folder, name in ((with_deps, "bench-deps"), (without, "bench-nodeps")):
        (folder / "actions").mkdir(parents=True)
        (folder / "manifest.yaml").write_text(MANIFEST.format(name=name, kind=localindex.KIND))
        localindex.python_action(folder / "actions" / "compute", "fastsum==1.0\npurelib\npuresrc\n")
        localindex.node_action(folder / "actions" / "pad", tarballs)
    # The same code without any dependency spec.
    (without / "actions" / "compute" / "requirements.txt").unlink()
    pad = without / "actions" / "pad"
    (pad / "package-lock.json").unlink()
    package = json.loads((pad / "package.json").read_text())
    package.pop("dependencies")
    package.pop("devDependencies")
    (pad / "package.json").write_text(json.dumps(package))
    extra = {**localindex.pip_env(index), **localindex.npm_env(tmp)}
    return with_deps, without, extra


def run(quick: bool) -> None:
    samples = 5 if quick else 15
    tmp = Path(tempfile.mkdtemp(prefix="deps-bench-"))
    server = start_server()
    try:
        with_deps, without, extra = _projects(tmp)
        home = tmp / "home"
        home.mkdir()
        cache = tmp / "owdeploy-cache"
        env = {**_env(server, home), **extra, "OWDEPLOY_CACHE_DIR": str(cache)}
        argv = [sys.executable, "-m", "deploy", "deploy", "-v", "-m"]
        first = child([*argv, str(with_deps / "manifest.yaml")], env, ROOT)
        builds = dict(
            re.findall(r"dependencies of \S+/(\w+): built for \S+ in ([\d.]+) s", first.err)
        )
        plain = child([*argv, str(without / "manifest.yaml")], env, ROOT)
        print("  first deploy, empty cache (pip and npm runs included):")
        row(
            "deploy, 2 actions with dependencies", ms(first.seconds), f"without {ms(plain.seconds)}"
        )
        for name, seconds in sorted(builds.items()):
            row(f"  of which building {name}'s dependencies", f"{float(seconds):.2f} s")
        cached, bare = [], []
        for _ in range(samples):  # alternated, so drift on the machine hits both
            cached.append(child([*argv, str(with_deps / "manifest.yaml")], env, ROOT))
            bare.append(child([*argv, str(without / "manifest.yaml")], env, ROOT))
        for r in cached:
            assert "nothing to do" in r.out and "built for" not in r.err, r.out + r.err
        a = statistics.median(r.seconds for r in cached)
        b = statistics.median(r.seconds for r in bare)
        print(f"  no-op redeploy, medians of {samples}, alternated:")
        row(
            "unchanged, with dependencies (cached)",
            ms(a),
            f"without {ms(b)}",
            f"{a / b:.2f}x",
            "<= 1.2x",
        )
        ca = statistics.median(r.cpu for r in cached)
        cb = statistics.median(r.cpu for r in bare)
        row("  the same in CPU time", ms(ca), f"without {ms(cb)}", f"{ca / cb:.2f}x")
        print("  zips as sent (base64 adds a third):")
        for path in sorted((cache / "zips").glob("*.zip")):
            data = path.read_bytes()
            held = zipfile.ZipFile(io.BytesIO(data)).namelist()
            which = "compute (Python)" if "__main__.py" in held else "pad (Node.js)"
            row(f"{which}, with dependencies", f"{len(data):,} B", f"{len(held)} entries")
        for name in ("compute", "pad"):
            folder = without / "actions" / name
            size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
            row(f"{name}, its own files unzipped", f"{size:,} B")
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
