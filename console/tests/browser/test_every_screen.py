"""Every screen each demo role is offered opens (no error), passes axe-core's WCAG 2.1 A/AA rules, and fits
a 320 px wide phone without sideways scrolling."""

import pytest
from playwright.async_api import Browser

from console.auth import DEMO_USERS

from .harness import assert_accessible, platform, screenshot, seed_staff, sign_in

pytestmark = pytest.mark.e2e


async def test_every_screen_of_every_role_is_accessible_and_fits_320_px(isolation, browser: Browser):
    async with platform(isolation) as stack:
        await seed_staff(stack)
        context = await browser.new_context(viewport={"width": 320, "height": 720})
        page = await context.new_page()
        await page.goto(f"{stack.console}/login")
        await assert_accessible(page)
        await screenshot(page, "login")
        seen = set()
        for user in DEMO_USERS:
            await context.clear_cookies()
            await sign_in(page, stack.console, user)
            screens = await page.eval_on_selector_all(
                'nav[aria-label="Main"] a', "links => links.map(a => a.getAttribute('href'))"
            )
            extra = ["/overview?cohort=2027"] if "/overview" in screens else []
            for href in [*screens, *extra]:
                reply = await page.goto(f"{stack.console}{href}")
                assert reply is not None and reply.status == 200, f"{user} {href}: {reply and reply.status}"
                await assert_accessible(page)
                width = await page.evaluate("document.documentElement.scrollWidth")
                assert width <= 320, f"{user} {href} scrolls sideways ({width} px)"
                seen.add(href)
            if user == "lead-lee":
                await page.set_viewport_size({"width": 1100, "height": 900})
                await page.goto(f"{stack.console}/overview?cohort=2027")
                assert await page.locator("#ack-times tbody tr").count() == 24  # 12 weeks x (urgent, elevated)
                await screenshot(page, "overview")
                await page.set_viewport_size({"width": 320, "height": 720})
        assert {
            "/",
            "/flags",
            "/overview",
            "/concerns",
            "/mentees",
            "/staff",
            "/rota",
            "/routing",
            "/preferences",
        } <= seen
        await context.close()
