"""A minimal headless-Chromium harness for the console's browser tests (Playwright driving Debian's chromium;
axe-core from the axe-playwright-python package, injected into the page: nothing is fetched from another host)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import axe_playwright_python
import httpx
from playwright.async_api import Browser, Page, async_playwright

from console.app import create_app as console_app
from console.settings import ConsoleSettings
from feedback.app import create_app as feedback_app
from feedback.settings import FeedbackSettings
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, serving
from mentorship.app import create_app as mentorship_app
from mentorship.settings import MentorshipSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from wellbeing.app import create_app as wellbeing_app
from wellbeing.settings import WellbeingSettings

AXE_JS = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
ADMIN = auth("admin-amy", "admin")
# Registers staff: granting a health-data role (counsellor, wellbeing lead) takes the wellbeing lead, any other the
# admin, so the seeding caller holds both.
REGISTRAR = auth("registrar", "admin", "wellbeing_lead")
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def chromium_path() -> str:
    found = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "the browser tests need Chromium (apt-get install chromium)"
    return found


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.0/2.1 A and AA rules of axe-core on the page as it is now."""
    if not await page.evaluate("() => typeof window.axe === 'object'"):
        await page.evaluate(AXE_JS)  # through the debugging protocol: the page's own CSP stays in force
    result = await page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [{"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]


async def assert_accessible(page: Page) -> None:
    violations = await axe_violations(page)
    assert violations == [], f"axe-core found WCAG violations on {page.url}: {violations}"


async def screenshot(page: Page, name: str) -> None:
    """Screenshots for the README, only when asked (CONSOLE_SCREENSHOTS=1), so a test run changes no file."""
    if os.environ.get("CONSOLE_SCREENSHOTS"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@dataclass
class Platform:
    console: str
    urls: dict[str, str]

    def client(self, service: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.urls[service], timeout=10)


@asynccontextmanager
async def platform(isolation: Any) -> AsyncIterator[Platform]:
    """The four services on the real Kafka and MongoDB, each on a loopback port, and the console in front."""
    apps = {
        "feedback": feedback_app(isolation.settings(FeedbackSettings)),
        "wellbeing": wellbeing_app(isolation.settings(WellbeingSettings)),
        "mentorship": mentorship_app(isolation.settings(MentorshipSettings)),
        "notifications": notifications_app(
            isolation.settings(
                NotificationsSettings,
                smtp_port=1,  # no SMTP server here: email retries, in-app still arrives
                delivery_sweep_interval_seconds=0.2,
                escalation_sweep_interval_seconds=0.2,
            )
        ),
    }
    async with AsyncExitStack() as stack:
        urls = {name: await stack.enter_async_context(serving(app)) for name, app in apps.items()}
        console = console_app(
            ConsoleSettings(
                app_env="development",
                feedback_url=urls["feedback"],
                wellbeing_url=urls["wellbeing"],
                mentorship_url=urls["mentorship"],
                notifications_url=urls["notifications"],
                inbox_poll_seconds=0.5,
            )
        )
        yield Platform(console=await stack.enter_async_context(serving(console)), urls=urls)


async def seed_staff(platform: Platform) -> None:
    """The demo staff, and counsellor-ada on call now (counsellor-ben next)."""
    async with platform.client("notifications") as api:
        for person, roles in (
            ("admin-amy", ["admin"]),
            ("lead-lee", ["wellbeing_lead"]),
            ("counsellor-ada", ["counsellor"]),
            ("counsellor-ben", ["counsellor"]),
            ("officer-omar", ["concerns_officer"]),
        ):
            reply = await api.put(
                f"/v1/staff/{person}",
                headers=REGISTRAR,
                json={"name": person, "roles": roles, "email": f"{person}@x.edu"},
            )
            assert reply.status_code == 200, reply.text
        now = utcnow()
        shifts = [
            {
                "staff_id": "counsellor-ada",
                "start": (now - timedelta(hours=1)).isoformat(),
                "end": (now + timedelta(hours=1)).isoformat(),
            },
            {
                "staff_id": "counsellor-ben",
                "start": (now + timedelta(hours=1)).isoformat(),
                "end": (now + timedelta(hours=9)).isoformat(),
            },
        ]
        reply = await api.put("/v1/rotas/counselling", headers=ADMIN, json={"lead_id": "lead-lee", "shifts": shifts})
        assert reply.status_code == 200, reply.text


async def sign_in(page: Page, console: str, user: str) -> None:
    await page.goto(f"{console}/login")
    await page.get_by_role("button", name=f"Sign in as {user}").click()
    await page.wait_for_url(f"{console}/")
