"""The Node.js actions' own tests (``tests/unit/actions/nodejs/*.test.js``), run by ``node --test``.

They drive ``actions/nodejs/*.js`` with the real ``openwhisk`` client against a fake
API server on a loopback port. ``NODE_PATH`` points at the pinned client that
``make node-deps`` installs for localwhisk's Node.js runtime, so ``require('openwhisk')``
resolves as it does on the platform, without bundling. By hand::

    NODE_PATH=localwhisk/runtime/nodejs/node_modules node --test tests/unit/actions/nodejs/*.test.js

Missing Node or a missing client is a failure that says how to fix it, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TESTS = sorted((Path(__file__).parent / "nodejs").glob("*.test.js"))
NODE_MODULES = ROOT / "localwhisk" / "runtime" / "nodejs" / "node_modules"
RUN_TIMEOUT_S = 120  # the slowest test waits 0.3 s for a deadline; this bounds a hung run


@pytest.mark.timeout(RUN_TIMEOUT_S + 20)
def test_nodejs_actions_pass_their_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (v18+) is not on PATH; install Node.js to test actions/nodejs")
    if not (NODE_MODULES / "openwhisk").is_dir():
        pytest.fail(f"{NODE_MODULES} has no openwhisk client: run `make node-deps` first")
    assert TESTS, "no *.test.js files found under tests/unit/actions/nodejs"
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES), "NO_COLOR": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("__OW_")}  # the tests set their own
    try:
        run = subprocess.run(
            [node, "--test", "--test-reporter=spec", *map(str, TESTS)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node --test did not finish in {RUN_TIMEOUT_S} s:\n{exc.stdout or ''}")
    if run.returncode != 0:
        pytest.fail(
            f"node --test exited {run.returncode}:\n{run.stdout}\n{run.stderr}", pytrace=False
        )
    # A run that found no tests also exits 0.
    assert re.search(r"\bpass [1-9]", run.stdout), run.stdout
    assert re.search(r"\bfail 0\b", run.stdout), run.stdout
