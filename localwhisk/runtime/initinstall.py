"""The runtime's compile step for a zip with ``requirements.txt`` and no ``virtualenv/``.

As apache/openwhisk-runtime-python ``core/python3Action/bin/compile`` (``virtualenv()``)
does at /init: ``python -m virtualenv virtualenv`` with the image's Python and its
``virtualenv`` package, then that environment's ``pip install -r requirements.txt``. Their
output is kept quiet when they succeed; when one fails its output is what the compile step
prints, which the runtime's proxy answers with "The action failed to generate or locate a
binary. See logs for details." (apache/openwhisk-runtime-go ``openwhisk/initHandler.go``)
and the output in the logs. The whole step counts against the action's timeout, as /init
does.

pip sees what the server's environment says of it (``PIP_*`` variables such as
``PIP_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, and the proxy variables), not
this machine's pip configuration files, which the runtime image does not have. The
environment is kept in the revision's code folder, so later cold starts of the same
revision do not install again; a failed or timed-out one is removed, so the next tries anew.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from localwhisk.runtime.sandbox import ACTION_DIR, Isolation
from localwhisk.runtime.virtualenvs import Environment

REQUIREMENTS = "requirements.txt"
VIRTUALENV = "virtualenv"
_SCRATCH = ".localwhisk-pip-tmp"  # pip's temporary files: the sandbox's /tmp is small
_OUTPUT_BYTES = 1024 * 1024  # of a failed step's output, kept for the logs
_PASSED_ON = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def needed(folder: Path) -> bool:
    """Whether the compile step would install: requirements.txt without virtualenv/."""
    return (folder / REQUIREMENTS).is_file() and not (folder / VIRTUALENV).is_dir()


@dataclass(frozen=True)
class Installed:
    """How the step ended: ``ok``; else ``timed_out`` or ``output`` (what it printed)."""

    ok: bool
    timed_out: bool = False
    output: str = ""


def _env(base: dict[str, str], seen_dir: str) -> dict[str, str]:
    env = {key: os.environ[key] for key in ("PATH", "LANG", "LC_ALL") if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in _PASSED_ON})
    env.update(base)
    env["PIP_CONFIG_FILE"] = os.devnull  # the image has no pip.conf; this machine's is not its
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["TMPDIR"] = f"{seen_dir}/{_SCRATCH}"
    return env


async def _step(argv: list[str], folder: Path, env: dict[str, str], deadline: float) -> Installed:
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=folder,
        env=env,
        start_new_session=True,  # its own group: a timeout kills pip and what it started
    )
    try:
        out, _ = await asyncio.wait_for(
            process.communicate(), max(0.0, deadline - time.monotonic())
        )
    except asyncio.TimeoutError:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        await process.wait()
        return Installed(False, timed_out=True)
    except BaseException:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        raise
    if process.returncode != 0:
        text = out[-_OUTPUT_BYTES:].decode("utf-8", "replace")
        return Installed(False, output=text)
    return Installed(True)


async def install(
    folder: Path, environment: Environment, isolation: Isolation, deadline: float
) -> Installed:
    """Make ``folder/virtualenv`` from ``folder/requirements.txt`` by ``deadline``
    (``time.monotonic()``), in the action's sandbox where there is one."""
    seen = ACTION_DIR if isolation.sandboxed else str(folder)
    python = environment.argv()[0]  # the kind's environment: its virtualenv package
    venv = f"{seen}/{VIRTUALENV}"
    steps = [
        [python, "-I", "-m", "virtualenv", venv],
        [f"{venv}/bin/python", "-m", "pip", "install", "-r", f"{seen}/{REQUIREMENTS}"],
    ]
    scratch = folder / _SCRATCH
    scratch.mkdir(exist_ok=True)
    env = _env({"HOME": "/tmp" if isolation.sandboxed else str(scratch)}, seen)
    result = Installed(False)
    try:
        for argv in steps:
            command = isolation.install_command(folder, environment, argv)
            result = await _step(command, folder, env, deadline)
            if not result.ok:
                break
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not result.ok:  # failed, timed out or cancelled: nothing half-made stays
            shutil.rmtree(folder / VIRTUALENV, ignore_errors=True)
    if not result.ok and not result.timed_out and not environment.built:
        note = (
            f"localwhisk: {environment.kind} has none of its image's packages here, "
            "virtualenv among them (run `make runtimes`)\n"
        )
        result = Installed(False, output=result.output + note)
    return result
