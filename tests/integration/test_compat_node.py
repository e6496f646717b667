"""The official OpenWhisk JavaScript client (npm ``openwhisk``) drives the server end to end.

Runs ``node --test tests/compat/`` against the session server; the scenario itself lives in
``tests/compat/client.test.mjs``. Missing Node or missing ``node_modules`` is a failure that
says how to fix it, never a silent skip: compatibility is the point of the server.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "tests" / "compat"
RUN_TIMEOUT_S = 280  # the scenario waits at most 60 s per step; this bounds a hung process


@pytest.mark.timeout(RUN_TIMEOUT_S + 20)
def test_official_js_client_scenario(localwhisk_url: str, guest_auth: tuple[str, str]) -> None:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node (v20+) is not on PATH; install Node.js to run the compatibility tests")
    if not (COMPAT / "node_modules" / "openwhisk").is_dir():
        pytest.fail("tests/compat/node_modules is missing: run `make compat-deps` first")
    env = {
        **os.environ,
        "OW_APIHOST": localwhisk_url.rstrip("/"),
        "OW_API_KEY": ":".join(guest_auth),
        "NO_COLOR": "1",
    }
    try:
        run = subprocess.run(
            [node, "--test", "--test-reporter=spec", str(COMPAT)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"node --test did not finish in {RUN_TIMEOUT_S} s:\n{_shown(exc.stdout, guest_auth)}"
        )
    assert run.returncode == 0, (
        f"node --test exited {run.returncode}:\n{_shown(run.stdout, guest_auth)}\n{_shown(run.stderr, guest_auth)}"
    )
    # Guard against a run that passed because it found no tests.
    assert re.search(r"\bpass [1-9]", run.stdout), _shown(run.stdout, guest_auth)


def _shown(output: str | bytes | None, auth: tuple[str, str]) -> str:
    """Process output for a failure message, with the key blanked out."""
    if output is None:
        return ""
    text = output.decode(errors="replace") if isinstance(output, bytes) else output
    return text.replace(auth[1], "<key>")
