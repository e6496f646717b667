"""The conversation with one action process: its pipes, reply reading and log capture.

Owns draining stdout/stderr for the process's whole life (so it never blocks),
cutting logs at the sentinel and at the logs limit, and reading one result line
from fd 3 with a deadline. It neither starts nor kills processes: that is ``runner``.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import os
import termios
import time
from collections import deque
from pathlib import Path

from localwhisk import codec
from localwhisk.runtime import launcher
from localwhisk.runtime.languages import NODE_OOM_MARKERS, PYTHON, Language
from localwhisk.runtime.outcomes import MAX_RESULT_BYTES, TRUNCATED_PREFIX_BYTES, log_line

MIB = 1024 * 1024
SENTINEL = launcher.SENTINEL.encode()
SENTINEL_LINE = launcher.SENTINEL_LINE
_PART_LINE = 1024 * 1024  # an unterminated line longer than this is logged in pieces
_NEVER = 1 << 62  # sentinel count of a stream at EOF: every activation counts as ended


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class _Results(asyncio.Protocol):
    """fd 3: splits result lines as bytes arrive, so a reply costs no task of its own.

    A line longer than the platform allows is not kept whole: its size is counted and
    a prefix kept for the error message, which is all the platform reports of it.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.scanned = 0  # bytes at the start of ``buffer`` known to hold no newline
        self.lines: deque[tuple[str, bytes, int]] = deque()
        self.overflow: int | None = None  # size so far of a too-long line
        self.prefix = b""
        self.eof = False
        self.waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        while data:
            if self.overflow is not None:
                end = data.find(b"\n")
                if end < 0:
                    self.overflow += len(data)
                    break
                self.lines.append(("line", self.prefix, self.overflow + end))
                self.overflow, self.prefix = None, b""
                data = data[end + 1 :]
                continue
            self.buffer += data
            data = b""
            while (end := self.buffer.find(b"\n", self.scanned)) >= 0:
                line = bytes(self.buffer[:end])
                del self.buffer[: end + 1]
                self.scanned = 0
                self.lines.append(("line", line, len(line)))
            self.scanned = len(self.buffer)
            if self.scanned > MAX_RESULT_BYTES + 1:
                self.overflow = self.scanned
                self.prefix = bytes(self.buffer[:TRUNCATED_PREFIX_BYTES])
                self.buffer.clear()
                self.scanned = 0
        if self.lines and self.waiter is not None:
            _wake(self.waiter)

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        if self.waiter is not None:
            _wake(self.waiter)

    def take(self) -> tuple[str, bytes, int] | None:
        """The next reply if one is complete (or the stream ended), else None."""
        if self.lines:
            return self.lines.popleft()
        if not self.eof:
            return None
        if self.overflow is not None:
            size, self.overflow = self.overflow, None
            return "exit", b"", size
        partial = bytes(self.buffer)
        self.buffer.clear()
        return "exit", partial, len(partial)


class _Output(asyncio.Protocol):
    """stdout or stderr: every chunk goes straight to the owner's log capture."""

    def __init__(self, owner: ChildIO, name: str) -> None:
        self.owner = owner
        self.name = name
        self.pending = b""
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.owner._chunk(self, data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner._ended(self)


class ChildIO:
    """One child process's pipes: requests in, results from fd 3, logs cut per activation."""

    def __init__(self, process: asyncio.subprocess.Process, language: Language = PYTHON) -> None:
        self.process = process
        self.language = language
        self.saw_oom_marker = False  # stderr showed V8's out-of-memory complaint
        self.pid = process.pid
        self.exited = asyncio.ensure_future(process.wait())
        self.key: tuple | None = None
        self.slot: Path | None = None  # the sandbox's code folder on the host, if sandboxed
        self.logs: list[str] = []
        self.log_bytes = 0
        self.log_limit = 10 * MIB  # replaced by the job's limit before each activation
        self.truncated = False
        self.runs = 0
        self.sentinels = {"stdout": 0, "stderr": 0}
        self.settled: asyncio.Future[None] | None = None
        self._results = _Results()
        self._outputs = (_Output(self, "stdout"), _Output(self, "stderr"))
        self._transports: list[asyncio.BaseTransport] = []
        self._results_fd = -1

    async def connect(self, results_fd: int, stdout_fd: int, stderr_fd: int) -> None:
        """Read the three pipes (read ends, owned from now on) for the process's whole life.

        Protocols rather than stream-reading tasks: a reply or a log line is handled in
        the callback that receives it, without waking a task per pipe per activation.
        """
        loop = asyncio.get_running_loop()
        self._results_fd = results_fd
        ends = ((results_fd, self._results), (stdout_fd, self._outputs[0]))
        for fd, protocol in (*ends, (stderr_fd, self._outputs[1])):
            transport, _ = await loop.connect_read_pipe(
                lambda protocol=protocol: protocol, os.fdopen(fd, "rb", 0)
            )
            self._transports.append(transport)

    def out_of_step(self) -> bool:
        """Between activations: fd 3 holds more than the replies taken, or is closed.

        The action wrote lines of its own to fd 3 (or closed it): the next reply read would
        be one of those, not the next activation's result, so the process cannot serve again.
        The pipe itself is asked too (FIONREAD), for bytes the event loop has not read yet.
        The launchers write their reply just after their sentinels (so a reply finds its
        logs complete); asked again before the process is reused, a reply that followed a
        stray line is there unless the launcher stalled between those two writes for as
        long as the next request took to come.
        """
        results = self._results
        if results.lines or results.buffer or results.overflow is not None or results.eof:
            return True
        waiting = array.array("i", [0])
        try:
            fcntl.ioctl(self._results_fd, termios.FIONREAD, waiting)
        except OSError:
            return True
        return waiting[0] > 0

    def close_pipes(self) -> None:
        for transport in self._transports:
            transport.close()

    def _chunk(self, stream: _Output, chunk: bytes) -> None:
        if chunk == SENTINEL_LINE and not stream.pending:
            # A quiet activation's whole output: count it without splitting lines.
            self.sentinels[stream.name] += 1
            self._check_settled()
            return
        ns = time.time_ns()
        *lines, pending = (stream.pending + chunk).split(b"\n")
        for line in lines:
            self._line(stream.name, line, ns)
        if len(pending) > _PART_LINE:
            self._line(stream.name, pending, ns)
            pending = b""
        stream.pending = pending

    def _ended(self, stream: _Output) -> None:
        if stream.closed.done():
            return
        if stream.pending:
            self._line(stream.name, stream.pending, time.time_ns())
            stream.pending = b""
        # A closed stream will print no more sentinels: stop waiting for it.
        self.sentinels[stream.name] = _NEVER
        self._check_settled()
        stream.closed.set_result(None)

    def _line(self, name: str, raw: bytes, ns: int) -> None:
        raw = raw.rstrip(b"\r")
        if name == "stderr" and self.language is not PYTHON and not self.saw_oom_marker:
            self.saw_oom_marker = any(marker in raw for marker in NODE_OOM_MARKERS)
        if raw.endswith(SENTINEL):
            # Output without a final newline shares the sentinel's line: keep that part.
            if len(raw) > len(SENTINEL):
                self._line(name, raw[: -len(SENTINEL)], ns)
            self.sentinels[name] += 1
            self._check_settled()
            return
        if self.truncated:
            return
        if self.log_bytes + len(raw) > self.log_limit:
            self.truncated = True
            return
        self.log_bytes += len(raw)
        self.logs.append(log_line(name, raw.decode("utf-8", "replace"), ns))

    def _check_settled(self) -> None:
        done = min(self.sentinels.values()) >= self.runs
        if done and self.settled is not None and not self.settled.done():
            self.settled.set_result(None)

    async def logs_settled(self, timeout: float) -> None:
        """Wait until both streams printed this activation's sentinel (or EOF / timeout)."""
        if min(self.sentinels.values()) >= self.runs:
            return
        loop = asyncio.get_running_loop()
        settled = self.settled = loop.create_future()
        timer = loop.call_later(timeout, _wake, settled)
        try:
            await settled
        finally:
            timer.cancel()
            self.settled = None

    async def drained(self, timeout: float) -> None:
        """Wait for EOF on both output pipes (the process is dead), bounded."""
        await asyncio.wait([stream.closed for stream in self._outputs], timeout=timeout)

    def take_logs(self, limit_bytes: int, *extra: str) -> list[str]:
        logs = self.logs
        if self.truncated:
            logs.append(
                log_line(
                    "stderr",
                    f"Logs were truncated because the total bytes size exceeds the limit of {limit_bytes} bytes.",
                )
            )
        logs.extend(log_line("stderr", text) for text in extra)
        self.logs, self.log_bytes, self.truncated = [], 0, False
        return logs

    async def read_reply(self, timeout: float) -> tuple[str, bytes, int]:
        """("line", data, size), ("exit", partial, size) or ("timeout", b"", 0)."""
        reply = self._results.take()
        if reply is not None:
            return reply
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        timer = loop.call_later(timeout, _wake, waiter)

        def on_exit(_: object) -> None:
            _wake(waiter)

        self.exited.add_done_callback(on_exit)
        self._results.waiter = waiter
        try:
            await waiter
            reply = self._results.take()
            if reply is not None:
                return reply
            if not self.exited.done():
                return "timeout", b"", 0
            # The process is gone; whatever it wrote before dying is already in the pipe.
            timer.cancel()
            waiter = self._results.waiter = loop.create_future()
            timer = loop.call_later(0.05, _wake, waiter)
            await waiter
            reply = self._results.take()
            return reply if reply is not None else ("exit", b"", 0)
        finally:
            timer.cancel()
            self.exited.remove_done_callback(on_exit)
            self._results.waiter = None

    def send(self, message: dict) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(codec.dumps(message) + b"\n")
