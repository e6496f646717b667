"""The dashboard in a real headless Chromium: sign in, run the bundle's web action, and
watch the worker it started appear, finish and be linked to it on the timeline.

The bundle is deployed by the deploy tool, as a user deploys it, to a real localwhisk.
Without Chromium (or Playwright) this module is skipped and ``make test`` ends by saying
the browser test did not run.
"""

from __future__ import annotations

import base64
import re
import shutil
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from browser import browser_page, expect, missing, sign_in
from deploytool import KEY, WORKER_RESULT, clean_env, owdeploy
from serverprocess import GUEST_AUTH, ROOT

WHY_NOT = missing()
pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"browser test not run: {WHY_NOT}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, start_localwhisk: Any) -> Iterator[Any]:
    proc = start_localwhisk(tmp_path_factory.mktemp("dashboard-data"))
    bundle = tmp_path_factory.mktemp("bundle")
    shutil.copy(ROOT / "manifest.yaml", bundle / "manifest.yaml")
    shutil.copytree(
        ROOT / "actions", bundle / "actions", ignore=shutil.ignore_patterns("__pycache__")
    )
    home = tmp_path_factory.mktemp("home")
    deployed = owdeploy(
        bundle, "deploy", env=clean_env(home, WHISK_APIHOST=proc.url, WHISK_AUTH=KEY)
    )
    assert deployed.returncode == 0, deployed.stderr
    yield proc
    proc.stop()


def test_the_worker_appears_finishes_and_is_linked_to_the_web_action(server):
    with browser_page() as page:
        sign_in(page, server.url)
        assert page.evaluate("sessionStorage.getItem('localwhisk.key')") == KEY
        assert page.evaluate("document.cookie") == ""
        assert page.evaluate("localStorage.length") == 0

        started = requests.get(
            f"{server.url}/api/v1/web/guest/default/test.json",
            params={"duration_ms": "1500"},
            timeout=30,
        )
        assert started.status_code == 200, started.text
        worker = started.json()["body"]["activationId"]

        # The activations view: the worker appears while it runs, pushed by the server.
        page.wait_for_selector(
            f'#rows .row[data-id="{worker}"][data-status="running"]', timeout=5_000
        )
        page.click('#nav a[data-view="timeline"]')
        bar = page.wait_for_selector(
            f'#tl .bar[data-id="{worker}"][data-status="success"]', timeout=10_000
        )
        web = bar.get_attribute("data-by")
        assert web and page.query_selector(f'#tl .bar[data-id="{web}"][data-status="success"]')
        assert page.query_selector(f'#tl path.link[data-from="{web}"][data-to="{worker}"]')
        listed = requests.get(
            f"{server.url}/dashboard/api/namespaces/_/activations", auth=GUEST_AUTH, timeout=10
        ).json()["activations"]
        assert {row["id"]: row["name"] for row in listed}[web] == "test"

        # One activation: the worker's result, and what caused it.
        page.locator(f'#tl .bar[data-id="{worker}"]').click()  # redrawn each second: by selector
        page.wait_for_selector(f'#d-by a[href="#/activation/{web}"]')
        page.wait_for_function(
            "document.getElementById('d-result').textContent.includes('payload')"
        )
        assert WORKER_RESULT["body"]["payload"] in page.inner_text("#d-result")
        assert page.lw_errors == []


def test_what_an_action_returns_is_shown_as_text_never_run_as_markup(server):
    hostile = "<img src=x onerror=alert(1)><b>bold</b>"
    code = f"def main(args):\n    print({hostile!r})\n    return {{'html': {hostile!r}}}\n"
    put = requests.put(
        f"{server.url}/api/v1/namespaces/_/actions/%3Cb%3E",
        json={"exec": {"kind": "python:3.11", "code": code}},
        auth=GUEST_AUTH,
        timeout=10,
    )
    assert put.status_code in (200, 400), put.text  # an illegal name is refused, as it should be
    name = "hostile"
    assert requests.put(
        f"{server.url}/api/v1/namespaces/_/actions/{name}",
        json={"exec": {"kind": "python:3.11", "code": code}},
        auth=GUEST_AUTH,
        params={"overwrite": "true"},
        timeout=10,
    ).ok
    with browser_page() as page:
        dialogs: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        sign_in(page, server.url)
        page.click('#nav a[data-view="entities"]')
        row = page.wait_for_selector(f'tr[data-action="{name}"]')
        row.query_selector("button[data-target]").click()
        link = row.wait_for_selector("a[href^='#/activation/']")
        link.click()
        # The page's policy forbids eval, so waits poll from Playwright's side (expect).
        expect(page.locator("#d-logs")).to_contain_text("onerror")
        assert hostile in page.inner_text("#d-result") and hostile in page.inner_text("#d-logs")
        assert (
            page.query_selector("#detail img") is None and page.query_selector("#detail b") is None
        )
        assert dialogs == []
        assert page.lw_errors == []


def test_a_trigger_fired_from_the_page_links_through_its_rule_and_bad_json_is_explained(server):
    with browser_page() as page:
        sign_in(page, server.url)
        page.click('#nav a[data-view="entities"]')
        row = page.locator('tr[data-trigger="my-worker-trigger"]')
        row.locator("textarea").fill("{not json")
        row.locator("button").click()
        expect(row.locator(".error")).to_contain_text("parameters of my-worker-trigger: not JSON")
        row.locator("textarea").fill('{"duration_ms": 200}')
        row.locator("button").click()
        fired = row.locator("a[href^='#/activation/']")
        expect(fired).to_have_count(1)
        trigger = fired.get_attribute("href").rsplit("/", 1)[1]
        page.click('#nav a[data-view="timeline"]')
        link = page.locator(f'#tl path.link[data-from="{trigger}"]')
        expect(link).to_have_count(1)
        worker = link.get_attribute("data-to")
        expect(page.locator(f'#tl .bar[data-id="{worker}"][data-status="success"]')).to_have_count(
            1
        )
        expect(page.locator("#tl svg text").first).to_contain_text("rule guest/async-rule")
        assert page.lw_errors == []


def test_streams_refused_past_the_cap_are_explained_and_retried_until_live(server):
    """With every stream slot of the namespace taken, the page says why it is offline
    (the server's own words) and connects by itself once slots are free again."""
    host, port = server.url.split("//", 1)[1].rsplit(":", 1)
    auth = "Basic " + base64.b64encode(":".join(GUEST_AUTH).encode()).decode()
    taken = []
    try:
        for _ in range(32):  # the per-namespace cap (platform.feed.PER_NAMESPACE)
            sock = socket.create_connection((host, int(port)), timeout=10)
            sock.sendall(
                f"GET /dashboard/api/namespaces/_/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Authorization: {auth}\r\n\r\n".encode()
            )
            assert b" 200 " in sock.recv(4096).split(b"\r\n", 1)[0]
            taken.append(sock)
        with browser_page() as page:
            page.goto(f"{server.url}/dashboard")
            expect(page.locator("#key")).to_have_value(re.compile(":"))
            page.click("#signin-form button")
            expect(page.locator("#live")).to_contain_text(
                "offline: Too many open event streams for namespace 'guest'", timeout=10_000
            )
            assert page.locator("#rows").count() == 1  # the rest of the page still works
            for sock in taken:
                sock.close()
            taken.clear()
            page.wait_for_selector("#live.on", timeout=30_000)
            assert page.lw_errors == [] or all("429" in e for e in page.lw_errors)
    finally:
        for sock in taken:
            sock.close()
