"""What containment costs (issue #10): isolation ``none`` against ``bwrap`` in one run.

Two servers side by side, one per isolation, measured in alternating rounds so drift on
a shared machine hits both alike: the warm blocking invoke p50 (goal: bwrap within
10 % of none) and the cold start, the first invoke after a create (goal <= 60 ms).
Without bubblewrap only the ``none`` figures are printed, with a line saying so.
"""

from __future__ import annotations

import time
import uuid

from bench.http import Client, percentile, time_requests
from bench.process import start_server
from localwhisk.runtime.sandbox import choose

NOOP = "def main(args):\n    return {}\n"
ROUNDS = 5
INVOKE = "/api/v1/namespaces/_/actions/{name}?blocking=true&result=true"


def _put(client: Client, name: str, code: str) -> None:
    body = {"exec": {"kind": "python:3.11", "code": code}}
    status = client.request("PUT", f"/api/v1/namespaces/_/actions/{name}?overwrite=true", body)[0]
    assert status == 200, status


def _cold(client: Client) -> float:
    name = f"bench-cold-{uuid.uuid4().hex[:8]}"
    _put(client, name, NOOP)
    seconds = client.request("POST", INVOKE.format(name=name), {})[2]
    client.request("DELETE", f"/api/v1/namespaces/_/actions/{name}")
    return seconds


def run(quick: bool = False) -> None:
    modes = ["none", "bwrap"] if choose("auto").sandboxed else ["none"]
    if len(modes) == 1:
        print("  bubblewrap cannot start a sandbox here: only isolation none is measured")
    servers = {mode: start_server("--isolation", mode) for mode in modes}
    warm: dict[str, list[float]] = {mode: [] for mode in modes}
    cold: dict[str, list[float]] = {mode: [] for mode in modes}
    per_round = 60 if quick else 600
    colds = 2 if quick else 4
    try:
        clients = {mode: Client(server.url) for mode, server in servers.items()}
        for client in clients.values():
            _put(client, "bench-noop", NOOP)
            client.request("POST", INVOKE.format(name="bench-noop"), {})  # warm it
        time.sleep(0.5)
        for round_ in range(ROUNDS):
            # Each round swaps who goes first, so neither always meets a cold cache.
            for mode in modes if round_ % 2 == 0 else modes[::-1]:
                path = INVOKE.format(name="bench-noop")
                warm[mode] += time_requests(servers[mode].url, "POST", path, per_round, {})
            for mode in modes:
                for _ in range(colds):
                    cold[mode].append(_cold(clients[mode]))
                    # Spares boot between deploys, not in a tight loop (as in the main bench).
                    time.sleep(0.2)
    finally:
        for server in servers.values():
            server.stop()
    print(f"\ncontainment cost, {ROUNDS} alternating rounds ({' vs '.join(modes)})")
    base = percentile(warm["none"], 50) * 1000
    for mode in modes:
        w50 = percentile(warm[mode], 50) * 1000
        c50 = percentile(cold[mode], 50) * 1000
        ratio = f"{w50 / base:.2f}x of none" if mode != "none" else "baseline"
        goal = "<= 1.10x" if mode != "none" else ""
        print(f"  warm blocking invoke p50, isolation {mode:<6} {w50:8.3f} ms   {ratio:<14} {goal}")
        print(f"  cold start p50, isolation {mode:<6}           {c50:8.1f} ms   goal <= 60 ms")
