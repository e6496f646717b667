"""The runner's pool bookkeeping and code folders, without processes."""

from __future__ import annotations

import asyncio
import base64
import io
import zipfile
from pathlib import Path

import pytest

from localwhisk.runtime.codecache import CodeCache, CodeError
from localwhisk.runtime.contract import CodeSpec
from localwhisk.runtime.pool import Pool


def make_pool(evicted: list, **kw) -> Pool[str]:
    limits = {"max_per_action": 2, "max_total": 3, "idle_seconds": 60.0} | kw
    return Pool(evict=evicted.append, **limits)


def test_slots_then_fifo_queue_per_action() -> None:
    async def go() -> tuple:
        pool = make_pool([])
        assert await pool.acquire("k", "/a") is None
        assert await pool.acquire("k", "/a") is None
        order: list[str] = []

        async def wait(name: str) -> str | None:
            proc = await pool.acquire("k", "/a")
            order.append(name)
            return proc

        first = asyncio.ensure_future(wait("first"))
        second = asyncio.ensure_future(wait("second"))
        await asyncio.sleep(0)
        queued = not first.done() and not second.done()
        pool.release("p1", "k", "/a", keep=True)
        got_first = await first
        pool.release(None, "k", "/a", keep=False)  # a crashed process frees its slot
        got_second = await second
        return queued, order, got_first, got_second, pool.count("/a"), pool.total

    queued, order, got_first, got_second, count, total = asyncio.run(go())
    assert queued
    assert order == ["first", "second"]
    assert got_first == "p1"  # the warm process goes to the first waiter
    assert got_second is None  # the freed slot: start a new process
    assert (count, total) == (2, 2)


def test_warm_process_is_reused_for_its_key_only() -> None:
    async def go() -> tuple:
        evicted: list[str] = []
        pool = make_pool(evicted)
        await pool.acquire("k1", "/a")
        pool.release("p1", "k1", "/a", keep=True)
        other_key = await pool.acquire("k2", "/a")
        same_key = await pool.acquire("k1", "/a")
        return other_key, same_key, evicted

    other_key, same_key, evicted = asyncio.run(go())
    assert other_key is None and same_key == "p1" and evicted == []


def test_retire_evicts_idle_processes_of_other_revisions() -> None:
    async def go() -> tuple:
        evicted: list[str] = []
        pool = make_pool(evicted)
        await pool.acquire("old", "/a")
        await pool.acquire("other", "/b")
        pool.release("p-old", "old", "/a", keep=True)
        pool.release("p-b", "other", "/b", keep=True)
        pool.retire("/a", "new")
        return evicted, pool.count("/a"), pool.total

    evicted, count, total = asyncio.run(go())
    assert evicted == ["p-old"] and count == 0 and total == 1


def test_max_total_evicts_least_recently_used_idle() -> None:
    async def go() -> tuple:
        evicted: list[str] = []
        pool = make_pool(evicted, max_total=2)
        for key in ("a", "b"):
            await pool.acquire(key, f"/{key}")
        pool.release("pa", "a", "/a", keep=True)
        pool.release("pb", "b", "/b", keep=True)
        slot = await pool.acquire("c", "/c")
        return slot, evicted, pool.total

    slot, evicted, total = asyncio.run(go())
    assert slot is None and evicted == ["pa"] and total == 2


def test_idle_expiry_and_cancelled_waiter() -> None:
    async def go() -> tuple:
        evicted: list[str] = []
        pool = make_pool(evicted, idle_seconds=0.05, max_per_action=1)
        await pool.acquire("k", "/a")
        waiter = asyncio.ensure_future(pool.acquire("k", "/a"))
        await asyncio.sleep(0)
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        pool.release("p", "k", "/a", keep=True)
        for _ in range(100):
            if evicted:
                break
            await asyncio.sleep(0.01)
        return evicted, pool.total

    evicted, total = asyncio.run(go())
    assert evicted == ["p"] and total == 0


def test_fail_waiters_on_close() -> None:
    async def go() -> None:
        pool = make_pool([], max_per_action=1)
        await pool.acquire("k", "/a")
        waiter = asyncio.ensure_future(pool.acquire("k", "/a"))
        await asyncio.sleep(0)
        pool.fail_waiters(RuntimeError("closed"))
        await waiter

    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(go())


def spec(code: str, revision: str = "1", binary: bool = False) -> CodeSpec:
    return CodeSpec(action="/ns/a", revision=revision, kind="python:3", code=code, binary=binary)


def test_code_folders_per_revision_and_discard(tmp_path: Path) -> None:
    async def go() -> tuple:
        cache = CodeCache(tmp_path / "code")
        one, again = await asyncio.gather(cache.prepare(spec("v1")), cache.prepare(spec("v1")))
        two = await cache.prepare(spec("v2", revision="2"))
        text = (one / "__main__.py").read_text()
        cache.discard("/ns/a", "1")
        return one, again, two, text

    one, again, two, text = asyncio.run(go())
    assert one == again and text == "v1"
    assert not one.exists() and (two / "__main__.py").read_text() == "v2"
    assert [p.name for p in (tmp_path / "code").iterdir()] == [two.name]


def test_zip_keeps_executable_bits_and_rejects_absolute_paths(tmp_path: Path) -> None:
    def encoded(entries: dict[str, tuple[str, int]]) -> str:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            for name, (text, mode) in entries.items():
                info = zipfile.ZipInfo(name)
                info.external_attr = mode << 16
                archive.writestr(info, text)
        return base64.b64encode(buf.getvalue()).decode()

    good = encoded({"__main__.py": ("", 0o644), "bin/tool": ("#!/bin/sh\n", 0o755)})
    bad = encoded({"__main__.py": ("", 0o644), "/etc/evil": ("", 0o644)})

    async def go() -> tuple:
        cache = CodeCache(tmp_path / "code")
        folder = await cache.prepare(spec(good, binary=True))
        with pytest.raises(CodeError, match="points outside the action folder"):
            await cache.prepare(spec(bad, revision="2", binary=True))
        return folder

    folder = asyncio.run(go())
    assert (folder / "bin/tool").stat().st_mode & 0o111
    staging_left = [p for p in (tmp_path / "code").iterdir() if p.name.startswith(".staging")]
    assert staging_left == []
