"""The dashboard in headless Chromium: first paint with 10,000 activations stored, and how
soon an activation that ends shows up while 50 a second arrive; and (``--screenshots``)
the pictures of its main views for the README.

Figures come from the browser itself: ``lwStats.firstRows`` (ms from navigation start to
the first painted rows) and ``lwStats.seen`` (when each finished activation was painted,
epoch ms) against the activation's recorded end, on the same machine's clock.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from bench.http import percentile
from bench.process import GUEST, start_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the browser and deploy-tool helpers the tests use

import browser  # noqa: E402

STORED = 10_000
RATE = 50  # activations a second while the browser watches
AUTH = tuple(GUEST.split(":", 1))
TICK = "def main(args):\n    return {'n': args.get('n')}\n"


def _store(server, count: int) -> None:
    """``count`` finished records written straight into the server's database, an hour's
    worth, a third of them caused by the one before (as workers are by web actions)."""
    from localwhisk.models import Activation
    from localwhisk.storage.store import Store

    now = int(time.time() * 1000)
    acts = []
    for i in range(count):
        start = now - 3_600_000 + i * 3_600_000 // count
        act = Activation(
            f"{start * 1000:013x}{i:019x}"[:32],
            "guest",
            f"job-{i % 17}",
            "0.0.1",
            "guest",
            start,
            end=start + 5 + i % 400,
            result={"i": i},
            logs=[f"2026-01-01T00:00:00.000000000Z stdout: line {i}"],
            annotations=[
                {"key": "path", "value": f"guest/job-{i % 17}"},
                {"key": "kind", "value": "python:3.11"},
                *([{"key": "initTime", "value": 40}] if i % 2 else []),
            ],
            entity_key=f"job-{i % 17}",
            trace={
                "kind": "python:3.11",
                **({"by": acts[-1].activation_id, "via": "api"} if i % 3 == 1 else {}),
            },
        )
        acts.append(act)
    store = Store(server.data / "localwhisk.db")
    try:
        store.put_activations(acts)
    finally:
        store.close()


def _arrive(url: str, seconds: float, ids: list[str]) -> None:
    """Non-blocking invokes at RATE a second, paced against the clock (no drift)."""
    session = requests.Session()
    session.auth = AUTH
    began = time.monotonic()
    for n in range(int(seconds * RATE)):
        delay = began + n / RATE - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        answer = session.post(f"{url}/api/v1/namespaces/_/actions/tick", json={"n": n}, timeout=10)
        ids.append(answer.json()["activationId"])


def _first_paint(page, url: str) -> float:
    page.reload()  # signed in: the tab's key is kept, so this is a returning visit
    page.wait_for_selector("#rows .row")
    return page.evaluate("window.lwStats.firstRows")


def run(quick: bool = False) -> None:
    why = browser.missing()
    if why is not None:
        print(f"dashboard: not measured: {why}")
        return
    seconds = 4 if quick else 10
    server = start_server()
    try:
        _store(server, STORED)
        put = requests.put(
            f"{server.url}/api/v1/namespaces/_/actions/tick",
            json={"exec": {"kind": "python:3.11", "code": TICK}},
            auth=AUTH,
            timeout=10,
        )
        put.raise_for_status()
        with browser.browser_page() as page:
            browser.sign_in(page, server.url)
            idle = [_first_paint(page, server.url) for _ in range(3)]
            ids: list[str] = []
            load = threading.Thread(target=_arrive, args=(server.url, seconds, ids))
            load.start()
            time.sleep(1)
            busy = _first_paint(page, server.url)  # a fresh page while activations arrive
            # Activations that ended before that page painted were shown by its first load,
            # not pushed: only the ones after count for the update figure.
            watching = page.evaluate("performance.timeOrigin + window.lwStats.firstRows")
            load.join()
            time.sleep(1.5)  # the last ones end and are painted
            seen = page.evaluate("window.lwStats.seen")
            in_dom = page.evaluate("document.querySelectorAll('#rows .row').length")
            loaded = page.evaluate("document.getElementById('count').textContent")
            errors = list(page.lw_errors)
        listed = requests.get(
            f"{server.url}/dashboard/api/namespaces/_/activations",
            params={"limit": 2000},
            auth=AUTH,
            timeout=30,
        ).json()["activations"]
        ends = {row["id"]: row["end"] for row in listed if "end" in row}
        pushed = [i for i in ids if ends.get(i, 0) > watching]
        lags = sorted(seen[i] - ends[i] for i in pushed if seen.get(i))
        missed = sum(1 for i in pushed if not seen.get(i))
    finally:
        server.stop()
    print(
        f"stored activations: {STORED:,}; arriving: {RATE}/s for {seconds} s ({len(ids)} started)"
    )
    print(
        f"first paint (navigation start to rows painted): {min(idle):.0f}-{max(idle):.0f} ms idle, "
        f"{busy:.0f} ms while {RATE}/s arrive (goal <= 1000 ms)"
    )
    if lags:
        print(
            f"activation end -> painted in the open list: p50 {percentile(lags, 50):.0f} ms, "
            f"p95 {percentile(lags, 95):.0f} ms, max {lags[-1]:.0f} ms over {len(lags)} "
            f"(goal <= 1000 ms); never painted: {missed}"
        )
    print(f"rows in the page's DOM: {in_dom} ({loaded}): only the visible ones are drawn")
    if errors:
        print(f"browser console errors: {errors[:3]}")


def screenshots(folder: Path) -> None:
    """The main views after a real async round trip and a trigger fire, as PNG files."""
    from deploytool import KEY, clean_env, owdeploy

    why = browser.missing()
    if why is not None:
        raise SystemExit(f"screenshots need a browser: {why}")
    folder.mkdir(parents=True, exist_ok=True)
    server = start_server()
    home = Path(tempfile.mkdtemp(prefix="lw-shots-"))
    try:
        env = clean_env(home, WHISK_APIHOST=server.url, WHISK_AUTH=KEY)
        deployed = owdeploy(ROOT, "deploy", env=env)
        if deployed.returncode != 0:
            raise SystemExit(deployed.stderr)
        with browser.browser_page(1100, 560) as page:
            browser.sign_in(page, server.url)
            web = f"{server.url}/api/v1/web/guest/default/test.json"
            first = requests.get(web, params={"duration_ms": "2500"}, timeout=30).json()
            requests.get(web, params={"duration_ms": "600"}, timeout=30)
            fired = requests.post(
                f"{server.url}/api/v1/namespaces/_/triggers/my-worker-trigger",
                json={"duration_ms": 1200},
                auth=AUTH,
                timeout=30,
            )
            fired.raise_for_status()
            # two web action runs, their workers, the trigger and its rule's worker
            browser.expect(page.locator("#rows .row")).to_have_count(6)
            page.wait_for_selector('#rows .row[data-status="running"]')
            page.screenshot(path=str(folder / "dashboard-activations.png"))
            page.click('#nav a[data-view="timeline"]')
            page.select_option("#tl-window", "10000")
            worker = first["body"]["activationId"]
            page.wait_for_selector(
                f'#tl .bar[data-id="{worker}"][data-status="success"]', timeout=15_000
            )
            page.screenshot(path=str(folder / "dashboard-timeline.png"))
            page.goto(f"{server.url}/dashboard#/activation/{worker}")
            browser.expect(page.locator("#d-result")).to_contain_text("payload")
            page.screenshot(path=str(folder / "dashboard-activation.png"))
            page.goto(f"{server.url}/dashboard#/entities")
            page.wait_for_selector("#e-rules tr[data-rule]")
            page.screenshot(path=str(folder / "dashboard-entities.png"))
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
    for shot in sorted(folder.glob("dashboard-*.png")):
        print(f"{shot}: {os.path.getsize(shot) // 1024} KB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard_bench")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--screenshots", type=Path, metavar="DIR", help="write the README's pictures"
    )
    options = parser.parse_args()
    if options.screenshots is not None:
        screenshots(options.screenshots)
    else:
        run(quick=options.quick)
