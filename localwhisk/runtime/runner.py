"""Runs actions in warm child processes: the only module that starts subprocesses.

Mirrors the OpenWhisk Python runtime (ActionLoop, apache/openwhisk-runtime-python
``core/python3ActionLoop/lib/launcher.py``): one long-lived launcher per action
revision, an init line then one JSON line per activation on its stdin, the result on
fd 3, logs cut at the sentinel. Node.js actions take the same path with ``launcher.js``;
what differs per language is in ``languages``. Turns everything an action can do wrong into the
platform's outcome. Slots and queueing live in ``pool``, code folders in ``codecache``,
pipe reading and log capture in ``childio``, the platform's wording in ``outcomes``,
containment (bubblewrap or rlimits) in ``sandbox``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import tempfile
import time
from collections import deque
from itertools import count
from pathlib import Path

from localwhisk.models import DEVELOPER_ERROR, WHISK_ERROR
from localwhisk.runtime import initinstall, peers, sandbox
from localwhisk.runtime.childio import MIB, ChildIO
from localwhisk.runtime.codecache import CodeCache, CodeError, link_into
from localwhisk.runtime.contract import RunJob, RunOutcome
from localwhisk.runtime.kinds import DEFAULT_KINDS, RUNNABLE_KINDS, cannot_run_message, resolve_kind
from localwhisk.runtime.languages import PYTHON, find_node, language_of
from localwhisk.runtime.outcomes import (
    DID_NOT_RUN,
    NO_BINARY,
    OUT_OF_MEMORY,
    TRUNCATED_PREFIX_BYTES,
    init_exit,
    invalid_init_response,
    log_line,
    now_ms,
    outcome_for_result,
    run_exit,
)
from localwhisk.runtime.pool import Pool
from localwhisk.runtime.virtualenvs import Environment, launcher_python, locate_all

_SETTLE_S = 0.5  # bound on waiting for logs of a process that is already dead
_SENTINEL_S = 2.0  # bound on waiting for the sentinels once the result is in
_OWNER = "owner.pid"  # in each runner folder: which server made it
_TREE_ROUNDS = 8  # kill passes over a process tree that may still be forking
DEFAULT_MEMORY_MB = 256  # the memory of the Node.js spares kept ready


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, read from /proc (empty where there is no /proc)."""
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                found.extend(int(child) for child in f.read().split())
    return found


def _kill_tree(pid: int) -> None:
    """SIGKILL every descendant of ``pid``, leaves first, until none is left (bounded).

    Without a PID namespace a detached grandchild (``setsid``) is outside the process
    group; the launcher adopts such orphans (child subreaper), so they stay below it.
    """
    for _ in range(_TREE_ROUNDS):
        stack, tree = [pid], []
        while stack:
            for child in _children(stack.pop()):
                tree.append(child)
                stack.append(child)
        if not tree:
            return
        for child in reversed(tree):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(child, signal.SIGKILL)


def _kill(proc: ChildIO, *, tree: bool) -> None:
    """Kill the process and all it started: descendants, its group, then itself."""
    if tree and proc.process.returncode is None:
        _kill_tree(proc.pid)
    # The group outlives its leader while a grandchild is alive, so always signal it.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    # os.kill, not Process.kill: Popen.kill polls, and reaping behind the child
    # watcher's back makes asyncio report a bogus exit status.
    if proc.process.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)


def _child_env(node_modules: str) -> dict[str, str]:
    """A container's worth of environment: nothing of the server's own settings leaks in."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL") if key in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env["__OW_WAIT_FOR_ACK"] = "1"
    env["NODE_PATH"] = node_modules  # where require() finds openwhisk, as in the images
    return env


def _spare_key(job: RunJob) -> tuple[str, int | None]:
    """Which blank processes can take this job: per Python kind (each has its own
    interpreter and packages), per language otherwise, and per memory size for a language
    whose limit is fixed when the process starts."""
    language = language_of(job.code.kind) or PYTHON
    if language is PYTHON:
        return resolve_kind(job.code.kind) or job.code.kind, None
    return language.family, job.memory_mb if language.memory_at_start else None


def _process_key(job: RunJob) -> tuple:
    """What a warm process is bound to. The revision stands for the code (it changes on
    every update), so megabytes of base64 are never compared per activation."""
    spec = job.code
    env = tuple(sorted(spec.init_env.items()))
    return (
        spec.action,
        spec.revision,
        spec.kind,
        spec.main,
        spec.binary,
        env,
        job.memory_mb,
        job.api_host,
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(work_dir: Path) -> list[Path]:
    """Remove ``runner-*`` folders whose server is gone (crashed or killed); the removed."""
    removed = []
    for folder in work_dir.glob("runner-*"):
        try:
            owner = int((folder / _OWNER).read_text().strip())
        except (OSError, ValueError):
            owner = 0  # made before owners were recorded, or half-made: nobody owns it
        if owner != os.getpid() and (owner <= 0 or not _alive(owner)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class Runner:
    """Runs actions in warm processes; ``run`` never raises for action misbehaviour."""

    def __init__(
        self,
        work_dir: Path,
        *,
        max_per_action: int = 4,
        max_total: int = 64,
        idle_seconds: float = 600.0,
        prewarm: int = 1,
        prewarm_nodejs: int = 0,
        isolation: sandbox.Isolation | None = None,
        environments: dict[str, Environment] | None = None,
    ) -> None:
        # Absolute: children run with their code folder as cwd, so a relative path would dangle.
        work_dir = Path(work_dir).resolve()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.isolation = isolation if isolation is not None else sandbox.choose("auto")
        self.isolation.check_hidden(work_dir)
        # Each Python kind's interpreter and packages (virtualenvs); never the server's.
        self.environments = environments if environments is not None else locate_all()
        remove_stale(work_dir)
        self._root = Path(tempfile.mkdtemp(prefix="runner-", dir=work_dir))
        (self._root / _OWNER).write_text(f"{os.getpid()}\n")
        self._code = CodeCache(self._root / "code")
        self._spare_dir = self._root / "spare"
        self._spare_dir.mkdir()
        self._slot_dir = self._root / "slots"  # one code folder per sandboxed process
        self._slot_numbers = count()
        self._pool: Pool[ChildIO] = Pool(
            max_per_action=max_per_action,
            max_total=max_total,
            idle_seconds=idle_seconds,
            evict=self._discard,
        )
        # Blank processes kept ready per spare key. Node.js ones at the default memory only,
        # as OpenWhisk's default manifest prewarms nodejs stem cells of 256 MB
        # (apache/openwhisk ansible/files/runtimes.json "stemCells").
        # Python spares per kind, each on its own interpreter: ``prewarm`` of the default
        # kind, one of every other, so that no first invoke of a kind pays an interpreter's
        # start inside its init time limit (the platform starts containers outside it).
        self._python_prewarm = max(0, prewarm)
        self._prewarm: dict[tuple[str, int | None], int] = {
            (kind, None): self._python_prewarm
            if kind == DEFAULT_KINDS["python"]
            else min(1, self._python_prewarm)
            for kind in self.environments
        }
        if prewarm_nodejs > 0 and find_node().usable:
            self._prewarm[("nodejs", DEFAULT_MEMORY_MB)] = prewarm_nodejs
        self._spares: dict[tuple[str, int | None], deque[ChildIO]] = {}
        self._starting: dict[tuple[str, int | None], int] = {}
        self._live: set[ChildIO] = set()
        self._reaping: set[asyncio.Future] = set()
        self._current: dict[str, tuple] = {}
        self._installing: dict[Path, asyncio.Lock] = {}  # per code folder (initinstall)
        self._revisions: dict[tuple[str, str], int] = {}  # live processes per (action, revision)
        # Processes running an activation: by activation id, and their pid -> activation id
        # (the roots ``peers`` searches for the caller of a REST request).
        self._busy: dict[str, ChildIO] = {}
        self._busy_pids: dict[int, str] = {}
        self._callers = peers.Callers()
        self._closed = False
        with contextlib.suppress(RuntimeError):  # no running loop yet: prewarm on first run
            asyncio.get_running_loop()
            self._refill()

    def can_run(self, kind: str) -> bool:
        return kind in RUNNABLE_KINDS

    def _refusal(self, kind: str) -> str | None:
        """Why this kind cannot run here (the developer error), or None."""
        if not self.can_run(kind):
            return cannot_run_message(kind)
        node = find_node()
        if language_of(kind) is not PYTHON and not node.usable:
            return f"The action kind '{kind}' needs Node.js, which this local server cannot run: {node.why_not}."
        return None

    def forget(self, action: str) -> None:
        """The action was updated or deleted: its idle processes go now, running ones when
        they finish, and with the last of them its code folders (called by the platform)."""
        self._current.pop(action, None)
        self._pool.retire(action, None)
        for revision in self._code.revisions(action):
            if (action, revision) not in self._revisions:
                self._code.discard(action, revision)

    def caller_of(
        self, peer: tuple[str, int], server: tuple[str, int], connection: object | None = None
    ) -> str | None:
        """The activation whose process tree holds the client end of ``peer`` -> ``server``."""
        return self._callers.find(peer, server, self._busy_pids, connection)

    def live_logs(
        self, activation_id: str, skip: int = 0, limit: int | None = None
    ) -> list[str] | None:
        """The log lines a running activation has written so far, past the first ``skip``
        and at most ``limit`` of them; None if it does not run here."""
        proc = self._busy.get(activation_id)
        if proc is None:
            return None
        return proc.logs[skip:] if limit is None else proc.logs[skip : skip + limit]

    def _mark_busy(self, proc: ChildIO, job: RunJob) -> None:
        activation_id = job.context.get("activation_id", "")
        self._busy[activation_id] = proc
        self._busy_pids[proc.pid] = activation_id

    def _mark_idle(self, proc: ChildIO | None, job: RunJob) -> None:
        if proc is not None and self._busy_pids.get(proc.pid) == job.context.get("activation_id"):
            del self._busy_pids[proc.pid]
        self._busy.pop(job.context.get("activation_id", ""), None)

    async def run(self, job: RunJob) -> RunOutcome:
        refusal = self._refusal(job.code.kind)
        if refusal is not None:
            now = now_ms()
            return RunOutcome(DEVELOPER_ERROR, {"error": refusal}, [], now, now)
        key = self._bind_revision(job)
        queued = time.monotonic()
        proc = await self._acquire(key, job.code.action)
        if isinstance(proc, RunOutcome):
            return proc
        wait_ms = int((time.monotonic() - queued) * 1000)
        start = now_ms()
        timing = {"init_ms": None, "wait_ms": wait_ms}
        keep = False
        try:
            if proc is None:
                proc, failed = await self._start_for(job, key, start, timing)
                if failed is not None:
                    return failed
            self._mark_busy(proc, job)
            status, result, keep, timed_out, size, complete = await self._activate(proc, job)
            if complete:
                logs = proc.take_logs(job.logs_mb * MIB)
            else:
                logs = await self._dead_logs(proc, job)
            return RunOutcome(
                status, result, logs, start, now_ms(), timed_out=timed_out, size=size, **timing
            )
        except OSError as exc:  # the launcher could not be started at all
            error = {"error": f"Failed to start the action process: {exc}"}
            return RunOutcome(WHISK_ERROR, error, [], start, now_ms(), **timing)
        finally:
            self._mark_idle(proc, job)
            self._give_back(proc, key, job.code.action, keep)

    def _bind_revision(self, job: RunJob) -> tuple:
        """The process key of this job; a new revision never runs old code."""
        key = _process_key(job)
        if self._current.get(job.code.action) != key:
            # Idle processes of the old revision go now.
            self._current[job.code.action] = key
            self._pool.retire(job.code.action, key)
        return key

    async def _acquire(self, key: tuple, action: str) -> ChildIO | None | RunOutcome:
        """A warm process, None (start one in the granted slot) or the shutdown outcome."""
        try:
            if self._closed:
                raise RuntimeError("runner closed")
            proc = await self._pool.acquire(key, action)
        except RuntimeError:
            now = now_ms()
            return RunOutcome(
                WHISK_ERROR, {"error": "The local server is shutting down."}, [], now, now
            )
        if proc is not None and (proc.exited.done() or proc.out_of_step()):
            # Died while idle (e.g. closed its own stdout), or its result channel holds
            # lines the action wrote there itself: this slot gets a fresh process.
            self._discard(proc)
            return None
        return proc

    async def _start_for(
        self, job: RunJob, key: tuple, start: int, timing: dict
    ) -> tuple[ChildIO | None, RunOutcome | None]:
        """Cold start into ``timing``; (process, None) or (process or None, failed outcome)."""
        init_started = time.monotonic()
        proc, failure = await self._cold_start(job, key)
        timing["init_ms"] = int((time.monotonic() - init_started) * 1000)
        if failure is None:
            return proc, None
        message, timed_out, notes = failure
        if proc is not None:
            logs = await self._dead_logs(proc, job, *notes)
        else:
            logs = [log_line("stderr", text) for text in (*notes, DID_NOT_RUN)]
        outcome = RunOutcome(
            DEVELOPER_ERROR,
            {"error": message},
            logs,
            start,
            now_ms(),
            timed_out=timed_out,
            **timing,
        )
        return proc, outcome

    def _give_back(self, proc: ChildIO | None, key: tuple, action: str, keep: bool) -> None:
        # Old revisions are not kept warm once a newer one has been asked for.
        keep = keep and not self._closed and self._current.get(action) == key
        self._pool.release(proc if keep else None, key, action, keep=keep)
        if proc is not None and not keep:
            self._discard(proc)

    async def _cold_start(self, job: RunJob, key: tuple) -> tuple[ChildIO | None, tuple | None]:
        """Lay out the code, take a prewarmed launcher and send it the init line (≈ /init)."""
        # Counted before the folder exists, so a forget() meanwhile cannot remove it
        # from under this start; the count passes to the process once it has one.
        ident = (job.code.action, job.code.revision)
        self._revisions[ident] = self._revisions.get(ident, 0) + 1
        # The action's time limit bounds its init: the compile step's install and the
        # launcher's import, not the start of a process (a container's, on the platform).
        budget = job.timeout_ms / 1000
        try:
            folder = await self._code.prepare(job.code)
            spare_key = _spare_key(job)
            if job.code.binary and spare_key[0] in self.environments:
                installing = time.monotonic()
                failed = await self._install_requirements(
                    folder, spare_key[0], job, installing + budget
                )
                if failed is not None:
                    self._forget_revision(key)
                    return None, failed
                budget -= time.monotonic() - installing
            proc = await self._fresh(spare_key)
        except CodeError as exc:
            self._forget_revision(key)
            # The runtime's answer is the result; a cause it reports only in the logs goes there.
            cause = str(exc)
            return None, (exc.result, False, () if cause == exc.result else (cause,))
        except BaseException:
            self._forget_revision(key)
            raise
        proc.key = key
        proc.log_limit = job.logs_mb * MIB
        self._mark_busy(proc, job)  # code run at init may call the API too
        if proc.slot is not None:
            # The sandbox sees only its own folder: show this revision's files in it.
            await asyncio.to_thread(link_into, folder, proc.slot)
            code_dir = sandbox.ACTION_DIR
        else:
            code_dir = str(folder)
        env = {**job.code.init_env, "__OW_API_HOST": job.api_host}
        proc.send(
            {
                "init": {
                    "dir": code_dir,
                    "main": job.code.main or "main",
                    "binary": job.code.binary,
                    "env": env,
                    "context": job.context,
                    "memory_mb": job.memory_mb,
                }
            }
        )
        return proc, await self._init_reply(proc, job, time.monotonic() + budget)

    async def _install_requirements(
        self, folder: Path, kind: str, job: RunJob, deadline: float
    ) -> tuple | None:
        """The compile step's pip install of requirements.txt (``initinstall``), once per
        revision folder; None when there is nothing to do or it worked, else the failure."""
        lock = self._installing.setdefault(folder, asyncio.Lock())
        async with lock:
            if not initinstall.needed(folder):
                return None
            done = await initinstall.install(
                folder, self._environment(kind), self.isolation, deadline
            )
        if done.ok:
            return None
        if done.timed_out:
            return (self._init_timeout(job), True, ())
        return (NO_BINARY, False, tuple(done.output.rstrip("\n").splitlines()))

    @staticmethod
    def _init_timeout(job: RunJob) -> str:
        return f"The action exceeded its time limits of {job.timeout_ms} milliseconds during initialization."

    async def _init_reply(self, proc: ChildIO, job: RunJob, deadline: float) -> tuple | None:
        """None when the launcher acked its init, else (error, timed out, stderr notes).

        As the invoker does (``ActivationResponse.processInitResponseContent``), the
        runtime's ``error`` is the result unchanged; anything else is an invalid response.
        """
        kind, data, _ = await proc.read_reply(max(0.0, deadline - time.monotonic()))
        if kind == "timeout":
            return (self._init_timeout(job), True, ())
        if kind == "line":
            try:
                reply = json.loads(data)
            except ValueError:
                reply = None
            if reply == {"ok": True}:
                return None
            if isinstance(reply, dict) and "error" in reply:
                return (reply["error"], False, ())
            text = data.decode("utf-8", "replace").strip()[:TRUNCATED_PREFIX_BYTES]
            return (invalid_init_response(text), False, ())
        if await self._out_of_memory(proc):
            return (OUT_OF_MEMORY, False, ())
        message, notes = init_exit(job.code.kind)
        return (message, False, notes)

    async def _activate(
        self, proc: ChildIO, job: RunJob
    ) -> tuple[str, object, bool, bool, int | None, bool]:
        """One activation on a ready process: (status, result, keep warm, timed out, size,
        logs complete). A process may end after a result whose logs are complete (the action
        left it unusable); its logs are then taken as they are, without the failure line."""
        proc.log_limit = job.logs_mb * MIB
        proc.runs += 1
        proc.send({"value": job.params, **job.context})
        kind, data, size = await proc.read_reply(job.timeout_ms / 1000)
        if kind == "line":
            status, result, keep = outcome_for_result(data, size)
            complete = keep or status != DEVELOPER_ERROR
            if complete:
                await proc.logs_settled(_SENTINEL_S)
                keep = keep and not proc.out_of_step()
            return status, result, keep, False, size, complete
        if kind == "timeout":
            return (
                DEVELOPER_ERROR,
                {"error": f"The action exceeded its time limits of {job.timeout_ms} milliseconds."},
                False,
                True,
                None,
                False,
            )
        message = OUT_OF_MEMORY if await self._out_of_memory(proc) else run_exit(job.code.kind)
        return DEVELOPER_ERROR, {"error": message}, False, False, None, False

    async def _out_of_memory(self, proc: ChildIO) -> bool:
        """After fd 3 closed: did the process die of its memory limit?"""
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(proc.exited), _SETTLE_S)
        if proc.language is not PYTHON:
            # V8 prints its complaint just before it aborts: let stderr reach us.
            await proc.drained(_SETTLE_S)
        return proc.language.out_of_memory(proc.process.returncode, proc.saw_oom_marker)

    def _kill(self, proc: ChildIO) -> None:
        # A PID namespace ends with its first process; without one, walk the tree.
        _kill(proc, tree=not self.isolation.sandboxed)

    async def _dead_logs(self, proc: ChildIO, job: RunJob, *notes: str) -> list[str]:
        """Kill the process tree, collect what it printed, then ``notes`` (stderr lines of
        the runtime's own) and the developer-error line."""
        self._kill(proc)
        await proc.exited
        await proc.drained(_SETTLE_S)
        return proc.take_logs(job.logs_mb * MIB, *notes, DID_NOT_RUN)

    async def close(self) -> None:
        """Kill every child, wait for them, remove the code folders; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._pool.fail_waiters(RuntimeError("runner closed"))
        self._pool.take_all_idle()
        # Spares still starting land in _live too; loop until nothing is left (bounded).
        deadline = time.monotonic() + 5
        while (self._live or self._reaping) and time.monotonic() < deadline:
            for proc in list(self._live):
                self._discard(proc)
            await asyncio.wait(set(self._reaping), timeout=max(0.01, deadline - time.monotonic()))
        self._spares.clear()
        self._live.clear()
        self._code.clear()
        shutil.rmtree(self._root, ignore_errors=True)

    # --- processes -------------------------------------------------------------------

    async def _spawn(self, spare_key: tuple[str, int | None]) -> ChildIO:
        # Plain pipes for fd 3, stdout and stderr: ChildIO reads them with protocols.
        family, memory_mb = spare_key
        language = language_of(family) or PYTHON
        environment = self._environment(family)
        slot = self._new_slot() if self.isolation.sandboxed else None
        results_r, results_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        try:
            process = await asyncio.create_subprocess_exec(
                *self.isolation.command(
                    slot, results_w, language, memory_mb or DEFAULT_MEMORY_MB, environment
                ),
                stdin=asyncio.subprocess.PIPE,
                stdout=out_w,
                stderr=err_w,
                pass_fds=(results_w,),
                start_new_session=True,  # its own process group, killed as one
                cwd=self._spare_dir,
                env=_child_env(self.isolation.node_modules()),
            )
        except BaseException:
            for fd in (results_r, out_r, err_r):
                os.close(fd)
            if slot is not None:
                shutil.rmtree(slot, ignore_errors=True)
            raise
        finally:
            for fd in (results_w, out_w, err_w):
                os.close(fd)
        proc = ChildIO(process, language)
        proc.slot = slot
        self._live.add(proc)  # from here on, _discard and close() find and reap it
        await proc.connect(results_r, out_r, err_r)
        return proc

    def _environment(self, kind: str) -> Environment:
        """The interpreter a launcher for ``kind`` (a Python kind, or "nodejs") starts on."""
        found = self.environments.get(kind)
        return found if found is not None else launcher_python()

    def _new_slot(self) -> Path:
        slot = self._slot_dir / str(next(self._slot_numbers))
        slot.mkdir(parents=True)
        os.chmod(slot, 0o755)  # mkdtemp's 0700 parents are outside the sandbox's view
        return slot

    async def _fresh(self, spare_key: tuple[str, int | None]) -> ChildIO:
        """A started launcher waiting for its init line: a prewarmed spare when there is one."""
        spares = self._spares.get(spare_key)
        while spares:
            proc = spares.popleft()
            if proc.process.returncode is None:
                self._refill()
                return proc
            self._discard(proc)
        proc = await self._spawn(spare_key)
        self._refill()
        return proc

    def _refill(self) -> None:
        if self._closed:
            return
        for spare_key, wanted in self._prewarm.items():
            ready = len(self._spares.get(spare_key, ())) + self._starting.get(spare_key, 0)
            for _ in range(wanted - ready):
                self._starting[spare_key] = self._starting.get(spare_key, 0) + 1
                task = asyncio.ensure_future(self._add_spare(spare_key))
                self._reaping.add(task)
                task.add_done_callback(self._reaping.discard)

    async def _add_spare(self, spare_key: tuple[str, int | None]) -> None:
        try:
            proc = await self._spawn(spare_key)
        except OSError:
            return
        finally:
            self._starting[spare_key] -= 1
        if self._closed:
            self._discard(proc)
        else:
            self._spares.setdefault(spare_key, deque()).append(proc)

    def _discard(self, proc: ChildIO) -> None:
        """Kill a process and forget it; reaping happens in the background."""
        self._kill(proc)
        task = asyncio.ensure_future(self._reap(proc))
        self._reaping.add(task)
        task.add_done_callback(self._reaping.discard)

    async def _reap(self, proc: ChildIO) -> None:
        await proc.exited
        await proc.drained(_SETTLE_S)
        if proc not in self._live:  # already reaped (close() and a discard can overlap)
            return
        self._live.discard(proc)
        proc.close_pipes()
        if proc.process.stdin is not None:
            proc.process.stdin.close()
        if proc.slot is not None:
            shutil.rmtree(proc.slot, ignore_errors=True)
        if proc.key is not None:
            self._forget_revision(proc.key)

    def _forget_revision(self, key: tuple) -> None:
        action, revision = key[:2]
        self._revisions[(action, revision)] -= 1
        if self._revisions[(action, revision)] <= 0:
            del self._revisions[(action, revision)]
            current = self._current.get(action)
            if current is None or current[1] != revision:
                self._code.discard(action, revision)
