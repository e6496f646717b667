"""Headless Chromium for the dashboard's browser test, its benchmark and its screenshots.

Debian's ``chromium`` driven by Playwright (``executable_path``: Playwright's own browser
downloads are never used). ``missing()`` says why no browser can run here, or None; each
browser gets a fresh profile folder and the flags that keep it from reaching the network
by itself (updates, sync, QUIC) or needing a GPU or a setuid sandbox.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMIUM = os.environ.get("LW_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def expect(locator: Any) -> Any:
    """Playwright's ``expect``: it polls from outside the page, which the dashboard's
    policy requires (``wait_for_function`` evaluates strings, which it refuses)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def missing() -> str | None:
    """Why the browser cannot run here (to say so plainly), or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make venv installs it)"
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        return f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    return None


@contextmanager
def browser_page(width: int = 1280, height: int = 720) -> Iterator[Any]:
    """A page in a fresh headless Chromium; its console errors in ``page.lw_errors``."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="lw-chromium-")
    try:
        with sync_playwright() as driver:
            context = driver.chromium.launch_persistent_context(
                profile,
                executable_path=CHROMIUM,
                headless=True,
                # the fresh profile is Chromium's --user-data-dir (Playwright passes it)
                args=FLAGS,
                viewport={"width": width, "height": height},
            )
            try:
                page = context.new_page()
                page.lw_errors = []
                page.on(
                    "console",
                    lambda m: page.lw_errors.append(m.text) if m.type == "error" else None,
                )
                page.on("pageerror", lambda e: page.lw_errors.append(str(e)))
                yield page
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def sign_in(page: Any, url: str) -> None:
    """Open the dashboard, take the pre-filled guest key, wait until events are live."""
    page.goto(f"{url}/dashboard")
    expect(page.locator("#key")).to_have_value(re.compile(":"))
    page.click("#signin-form button")
    page.wait_for_selector("#live.on", timeout=10_000)
