"""The browser harness itself: outside hosts are unreachable and recorded, loopback works, and the
accessibility check catches what axe-core catches (so a passing page is not a harness that sees nothing)."""

from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from medsupport_shared.testing import serving
from medsupport_shared.testing.browser import accessibility_violations, assert_accessible

GOOD = """<!doctype html><html lang="en"><head><title>Inbox</title></head><body><main>
<h1>Inbox</h1><form><label for="q">Search</label><input id="q" name="q"><button>Go</button></form>
<img src="/logo.svg" alt="medsupport"></main></body></html>"""
BAD = """<!doctype html><html><head><title>Inbox</title></head><body>
<img src="/logo.svg"><input name="q"><p style="color:#eee;background:#fff">low contrast</p></body></html>"""
LEAKY = """<!doctype html><html lang="en"><head><title>t</title>
<script src="https://cdn.example.org/lib.js"></script></head><body>
<img src="http://203.0.113.7/pixel.gif" alt=""><img id="own" src="/logo.svg" alt="own"></body></html>"""
LOGO = '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>'


def pages_app() -> Starlette:
    def html(body: str):
        return lambda request: HTMLResponse(body)

    return Starlette(
        routes=[
            Route("/good", html(GOOD)),
            Route("/bad", html(BAD)),
            Route("/leaky", html(LEAKY)),
            Route("/logo.svg", lambda request: Response(LOGO, media_type="image/svg+xml")),
        ]
    )


async def test_outside_hosts_are_blocked_and_recorded_while_loopback_loads(offline_page):
    async with serving(pages_app()) as base:
        await offline_page.page.goto(f"{base}/leaky", wait_until="load")
        own_logo_width = await offline_page.page.eval_on_selector("#own", "img => img.naturalWidth")
    assert sorted(offline_page.blocked) == ["http://203.0.113.7/pixel.gif", "https://cdn.example.org/lib.js"]
    assert own_logo_width == 4


async def test_the_accessibility_check_passes_a_good_page_and_names_each_problem_of_a_bad_one(offline_page):
    async with serving(pages_app()) as base:
        await offline_page.page.goto(f"{base}/good")
        await assert_accessible(offline_page.page)
        await offline_page.page.goto(f"{base}/bad")
        found = {v["id"] for v in await accessibility_violations(offline_page.page)}
    assert {"image-alt", "label", "color-contrast", "html-has-lang"} <= found
