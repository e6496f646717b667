"""The Node.js actions' own tests (``tests/unit/actions/nodejs/*.test.js``), run by ``node --test``.

They drive ``actions/nodejs/*.js`` against a fake API server on a loopback port. The
actions need nothing but Node itself, and run here without ``NODE_PATH``, so a
``require`` of a module the runtime images may lack fails these tests. By hand::

    node --test tests/unit/actions/nodejs/*.test.js

Missing Node is a failure that says how to fix it, not a skip.
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
RUN_TIMEOUT_S = 120  # the slowest test waits 0.3 s for a deadline; this bounds a hung run


@pytest.mark.timeout(RUN_TIMEOUT_S + 20)
def test_nodejs_actions_pass_their_node_tests() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (v18+) is not on PATH; install Node.js to test actions/nodejs")
    assert TESTS, "no *.test.js files found under tests/unit/actions/nodejs"
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("NODE_PATH", None)
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
