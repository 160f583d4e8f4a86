"""Browser tests in a real headless Chromium on a machine with no internet, for every web page of the
platform (the services' API docs, the staff console).

Fixtures (registered by the root ``conftest.py``):

- ``chromium_browser`` (session): the system's Chromium driven by Playwright, found or installed by
  ``deploy/local/chromium.py``; outside host names do not resolve.
- ``offline_page``: an :class:`OfflinePage` whose every request to a host other than loopback is
  aborted and recorded in ``blocked``, so a test both works offline and proves nothing went out.

Helpers: :func:`medsupport_shared.testing.serving` serves an app on a free loopback port;
:func:`assert_accessible` runs axe-core (WCAG 2.1 A/AA rules) on the page and fails with its report.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, Route, async_playwright

WCAG_21_AA = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
# Name resolution fails for every host but loopback, so even a request the page's routing does not
# see (a prefetch, the browser's own background traffic) cannot leave the machine.
OFFLINE_ARGS = (
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
    "--disable-background-networking",
)
LOOPBACK_HOSTS = {"localhost", "::1", "[::1]"}


def _ensure_script() -> Path | None:
    for parent in Path(__file__).resolve().parents:
        script = parent / "deploy" / "local" / "chromium.py"
        if script.exists():
            return script
    return None


def chromium_path() -> str:
    """The Chromium binary, from the project's own ``deploy/local/chromium.py`` (which installs Debian's
    package when run as root on a machine without one)."""
    script = _ensure_script()
    if script is None:
        raise RuntimeError("deploy/local/chromium.py not found above the shared library")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"no Chromium for the browser tests: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip().splitlines()[-1]


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = (parts.hostname or "").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@dataclass
class OfflinePage:
    page: Page
    blocked: list[str] = field(default_factory=list)
    """Every request to another host that the page tried (and that was aborted)."""
    console_errors: list[str] = field(default_factory=list)


@asynccontextmanager
async def launch_chromium(path: str | None = None) -> AsyncIterator[Browser]:
    executable = path or await asyncio.to_thread(chromium_path)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=executable, headless=True, args=list(OFFLINE_ARGS))
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def open_offline_page(browser: Browser, **context_options: Any) -> AsyncIterator[OfflinePage]:
    """A fresh browser context (own cookies and storage) whose requests never leave loopback."""
    context = await browser.new_context(service_workers="block", **context_options)
    page = await context.new_page()
    offline = OfflinePage(page=page)

    async def keep_on_loopback(route: Route) -> None:
        if is_loopback(route.request.url):
            await route.continue_()
        else:
            offline.blocked.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", keep_on_loopback)
    page.on("console", lambda message: offline.console_errors.append(message.text) if message.type == "error" else None)
    try:
        yield offline
    finally:
        await context.close()


async def accessibility_violations(
    page: Page, *, tags: Collection[str] = WCAG_21_AA, ignore: Collection[str] = ()
) -> list[dict[str, Any]]:
    """axe-core's violations of the page as it is now (rule ids in ``ignore`` left out)."""
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    results = await Axe().run(page, options=options)
    violations: list[dict[str, Any]] = results.response["violations"]
    return [v for v in violations if v["id"] not in ignore]


async def assert_accessible(page: Page, *, tags: Collection[str] = WCAG_21_AA, ignore: Collection[str] = ()) -> None:
    violations = await accessibility_violations(page, tags=tags, ignore=ignore)
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:5])}"
        for v in violations
    ]
    assert report == [], "accessibility violations:\n" + "\n".join(report)


@pytest.fixture(scope="session")
async def chromium_browser() -> AsyncIterator[Browser]:
    async with launch_chromium() as browser:
        yield browser


@pytest.fixture
async def offline_page(chromium_browser: Browser) -> AsyncIterator[OfflinePage]:
    async with open_offline_page(chromium_browser) as page:
        yield page
