"""localwhisk figures (issue 4): invoke latency and throughput against GET /api/v1 on the same server."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from bench.http import Client, percentile, time_requests, wrk
from bench.process import start_server

NOOP = "def main(args):\n    return {}\n"
SLEEPER = "import time\n\ndef main(args):\n    time.sleep(float(args.get('s', 1)))\n    return {'slept': args.get('s', 1)}\n"


def put_action(client: Client, name: str, code: str, timeout: int = 60000) -> None:
    body = {"exec": {"kind": "python:3.11", "code": code}, "limits": {"timeout": timeout}}
    status, payload, _ = client.request(
        "PUT", f"/api/v1/namespaces/_/actions/{name}?overwrite=true", body
    )
    if status != 200:
        raise RuntimeError(f"PUT action {name}: {status} {payload[:200]!r}")


def row(name: str, value: str, baseline: str, ratio: str, goal: str) -> None:
    print(f"  {name:<46} {value:>12}   {baseline:>14}   {ratio:>8}   goal {goal}")


def latency(base: str, count: int) -> None:
    print("\nwarm latency, one keep-alive client (Python http.client)")
    meta = time_requests(base, "GET", "/api/v1", count)
    invoke = time_requests(
        base, "POST", "/api/v1/namespaces/_/actions/bench-noop?blocking=true&result=true", count, {}
    )
    web = time_requests(base, "GET", "/api/v1/web/guest/default/bench-web.json", count)
    m50 = percentile(meta, 50) * 1000
    i50, i99 = percentile(invoke, 50) * 1000, percentile(invoke, 99) * 1000
    w50 = percentile(web, 50) * 1000
    row("GET /api/v1 p50 (baseline)", f"{m50:.3f} ms", "", "", "")
    row(
        "blocking invoke result=true p50",
        f"{i50:.3f} ms",
        f"{m50:.3f} ms",
        f"{i50 / m50:.2f}x",
        "<= 2x",
    )
    row(
        "blocking invoke result=true p99",
        f"{i99:.3f} ms",
        f"{m50:.3f} ms",
        f"{i99 / m50:.2f}x",
        "<= 4x",
    )
    row("web action .json p50", f"{w50:.3f} ms", f"{i50:.3f} ms", f"{w50 / i50:.2f}x", "<= 1.2x")


def throughput(base: str, seconds: float) -> None:
    print("\nthroughput with wrk (second process, loopback)")
    meta = wrk(base, "GET", "/api/v1", 16, seconds)
    inv = wrk(
        base,
        "POST",
        "/api/v1/namespaces/_/actions/bench-noop?blocking=true&result=true",
        16,
        seconds,
    )
    row("GET /api/v1, 16 connections (baseline)", f"{meta['rps']:.0f}/s", "", "", "")
    row(
        "blocking invokes, 16 connections",
        f"{inv['rps']:.0f}/s",
        f"{meta['rps']:.0f}/s",
        f"{inv['rps'] / meta['rps'] * 100:.0f}%",
        ">= 3000/s and >= 20%",
    )
    if inv["non_2xx"]:
        print(f"  !! {inv['non_2xx']:.0f} invokes were not 2xx")
    print("\ninvoke latency by connections (wrk)")
    for conns in (1, 4, 16, 64):
        r = wrk(
            base,
            "POST",
            "/api/v1/namespaces/_/actions/bench-noop?blocking=true&result=true",
            conns,
            seconds / 2,
        )
        row(
            f"{conns:>2} connections",
            f"p50 {r['p50_ms']:.2f} ms",
            f"p99 {r['p99_ms']:.2f} ms",
            f"{r['rps']:.0f}/s",
            "",
        )


def nonblocking(base: str, seconds: float) -> None:
    client = Client(base)
    _, body, _ = client.request(
        "GET", "/api/v1/namespaces/_/activations?count=true&name=bench-noop"
    )
    before = json.loads(body)["activations"]
    res = wrk(base, "POST", "/api/v1/namespaces/_/actions/bench-noop", 16, seconds)
    accepted = int(res["requests"] - res["non_2xx"])
    deadline = time.monotonic() + 120
    while True:
        _, body, _ = client.request(
            "GET", "/api/v1/namespaces/_/activations?count=true&name=bench-noop"
        )
        records = json.loads(body)["activations"] - before
        if records >= accepted or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    print("\nnon-blocking submits (wrk, 16 connections)")
    row("submits accepted", f"{res['rps']:.0f}/s", "", "", ">= 5000/s")
    row(
        "activation records for accepted submits",
        f"{records}",
        f"{accepted}",
        "",
        "equal (none lost)",
    )


def cold_start(base: str, count: int) -> None:
    client = Client(base)
    samples, updated = [], []
    for i in range(count):
        name = f"bench-cold-{uuid.uuid4().hex[:8]}"
        put_action(client, name, NOOP)
        samples.append(
            client.request(
                "POST", f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=true", {}
            )[2]
        )
        put_action(client, name, NOOP + f"# v{i}\n")
        updated.append(
            client.request(
                "POST", f"/api/v1/namespaces/_/actions/{name}?blocking=true&result=true", {}
            )[2]
        )
        client.request("DELETE", f"/api/v1/namespaces/_/actions/{name}")
    print("\ncold start (first blocking invoke after create / after update)")
    row("after create p50", f"{percentile(samples, 50) * 1000:.1f} ms", "", "", "<= 60 ms")
    row("after update p50", f"{percentile(updated, 50) * 1000:.1f} ms", "", "", "<= 60 ms")


async def held_open(base: str, server, count: int) -> None:
    host, port = base.split("//")[1].split(":")
    client = Client(base)
    put_action(client, "bench-sleep", SLEEPER)
    body = json.dumps({"s": 0.5}).encode()
    from bench.http import AUTH

    async def one() -> int:
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /api/v1/namespaces/_/actions/bench-sleep?blocking=true&result=true HTTP/1.1\r\n"
            + f"Host: {host}\r\nAuthorization: {AUTH}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        data = await reader.read()
        writer.close()
        return int(data.split(b" ", 2)[1]) if data else 0

    peak = 0.0
    tasks = [asyncio.create_task(one()) for _ in range(count)]
    await asyncio.sleep(1.0)  # a fixed pause is fine here: this is a measurement, not a test
    meta = await asyncio.to_thread(lambda: Client(base).request("GET", "/api/v1")[2])
    while not all(t.done() for t in tasks):
        peak = max(peak, server.rss_mb())
        await asyncio.sleep(0.2)
    statuses = [t.result() for t in tasks]
    print(f"\n{count} blocking invokes held open at once (action sleeps 0.5 s)")
    row("answered 200", f"{statuses.count(200)}", f"{count}", "", "all")
    row("server RSS peak", f"{peak:.0f} MB", "", "", "< 300 MB")
    row(f"GET /api/v1 while {count} are open", f"{meta * 1000:.1f} ms", "", "", "<= 50 ms")


def run(quick: bool = False) -> None:
    server = start_server()
    try:
        time.sleep(1.0)
        print(f"localwhisk at {server.url}")
        row("idle server RSS", f"{server.rss_mb():.0f} MB", "", "", "<= 60 MB")
        client = Client(server.url)
        put_action(client, "bench-noop", NOOP)
        body = {
            "exec": {"kind": "python:3.11", "code": NOOP},
            "annotations": [{"key": "web-export", "value": True}],
        }
        client.request("PUT", "/api/v1/namespaces/_/actions/bench-web?overwrite=true", body)
        latency(server.url, 300 if quick else 3000)
        throughput(server.url, 2.0 if quick else 5.0)
        nonblocking(server.url, 2.0 if quick else 5.0)
        cold_start(server.url, 5 if quick else 20)
        asyncio.run(held_open(server.url, server, 200 if quick else 2000))
    finally:
        server.stop()
