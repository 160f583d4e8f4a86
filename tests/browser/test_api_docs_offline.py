"""Each service's /docs renders every operation in a real headless Chromium that cannot reach any host
but loopback (issue 19): the page, its scripts and styles, and the OpenAPI document all come from the
service itself, and the page tries no outside host at all."""

import importlib

import pytest

from medsupport_shared.testing import serving

pytestmark = pytest.mark.integration
SERVICES = {
    "feedback": "FeedbackSettings",
    "wellbeing": "WellbeingSettings",
    "mentorship": "MentorshipSettings",
    "notifications": "NotificationsSettings",
}
METHODS = {"get", "put", "post", "delete", "patch"}


@pytest.mark.parametrize("service", SERVICES)
async def test_docs_list_every_operation_offline(service, isolation, offline_page):
    settings_class = getattr(importlib.import_module(f"{service}.settings"), SERVICES[service])
    app = importlib.import_module(f"{service}.app").create_app(isolation.settings(settings_class))
    expected = sorted(
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
        if method in METHODS
    )
    page = offline_page.page
    async with serving(app) as base:
        await page.goto(f"{base}/docs")
        await page.locator(".opblock").nth(len(expected) - 1).wait_for(timeout=20_000)
        listed = await page.eval_on_selector_all(
            ".opblock",
            """blocks => blocks.map(b =>
                b.querySelector('.opblock-summary-method').textContent.trim() + ' ' +
                b.querySelector('.opblock-summary-path').getAttribute('data-path'))""",
        )
        title = await page.locator(".info .title").first.inner_text()
    assert offline_page.blocked == []
    assert sorted(set(listed)) == expected
    assert title.startswith(app.title)
