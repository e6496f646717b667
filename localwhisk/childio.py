"""The conversation with one action process: its pipes, reply reading and log capture.

Owns draining stdout/stderr for the process's whole life (so it never blocks),
cutting logs at the sentinel and at the logs limit, and reading one result line
from fd 3 with a deadline. It neither starts nor kills processes: that is ``runner``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from localwhisk import launcher
from localwhisk.outcomes import TRUNCATED_PREFIX_BYTES, log_line

MIB = 1024 * 1024
SENTINEL = launcher.SENTINEL.encode()
_PART_LINE = 1024 * 1024  # an unterminated line longer than this is logged in pieces
_NEVER = 1 << 62  # sentinel count of a stream at EOF: every activation counts as ended


class ChildIO:
    """One child process's pipes: requests in, results from fd 3, logs cut per activation."""

    def __init__(
        self,
        process: asyncio.subprocess.Process,
        results: asyncio.StreamReader,
        transport: asyncio.BaseTransport,
    ) -> None:
        self.process = process
        self.transport = transport
        self.pid = process.pid
        self.results = results
        self.exited = asyncio.ensure_future(process.wait())
        self.key: tuple | None = None
        self.logs: list[str] = []
        self.log_bytes = 0
        self.log_limit = 10 * MIB  # replaced by the job's limit before each activation
        self.truncated = False
        self.runs = 0
        self.sentinels = {"stdout": 0, "stderr": 0}
        self.settled: asyncio.Future[None] | None = None
        self.pumps = [
            asyncio.ensure_future(self._pump(process.stdout, "stdout")),
            asyncio.ensure_future(self._pump(process.stderr, "stderr")),
        ]

    async def _pump(self, stream: asyncio.StreamReader, name: str) -> None:
        """Drain one output pipe for the whole life of the process, so the child never blocks."""
        pending = b""
        while chunk := await stream.read(65536):
            ns = time.time_ns()
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._line(name, line, ns)
            if len(pending) > _PART_LINE:
                self._line(name, pending, ns)
                pending = b""
        if pending:
            self._line(name, pending, time.time_ns())
        # A closed stream will print no more sentinels: stop waiting for it.
        self.sentinels[name] = _NEVER
        self._check_settled()

    def _line(self, name: str, raw: bytes, ns: int) -> None:
        raw = raw.rstrip(b"\r")
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
        self.settled = asyncio.get_running_loop().create_future()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(self.settled), timeout)

    async def drained(self, timeout: float) -> None:
        """Wait for EOF on both output pipes (the process is dead), bounded."""
        await asyncio.wait(self.pumps, timeout=timeout)

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
        read = asyncio.ensure_future(self._read_line())
        done, _ = await asyncio.wait(
            (read, self.exited), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if read not in done and self.exited in done:
            # The process is gone; whatever it wrote before dying is already in the pipe.
            done, _ = await asyncio.wait((read,), timeout=0.05)
        if read in done:
            return read.result()
        read.cancel()
        return ("exit", b"", 0) if self.exited.done() else ("timeout", b"", 0)

    async def _read_line(self) -> tuple[str, bytes, int]:
        try:
            line = await self.results.readuntil(b"\n")
            return "line", line[:-1], len(line) - 1
        except asyncio.IncompleteReadError as exc:
            return "exit", exc.partial, len(exc.partial)
        except asyncio.LimitOverrunError as exc:
            # Too large for the platform: count it all, keep a prefix for the message.
            prefix = await self.results.readexactly(exc.consumed)
            size = len(prefix)
            while True:
                chunk = await self.results.read(1 << 20)
                if not chunk:
                    return "exit", b"", size
                end = chunk.find(b"\n")
                size += len(chunk) if end < 0 else end
                if len(prefix) < TRUNCATED_PREFIX_BYTES:
                    prefix += chunk[:TRUNCATED_PREFIX_BYTES]
                if end >= 0:
                    return "line", prefix[:TRUNCATED_PREFIX_BYTES], size

    def send(self, message: dict) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    @property
    def out_of_memory(self) -> bool:
        return self.process.returncode == launcher.MEMORY_EXIT
