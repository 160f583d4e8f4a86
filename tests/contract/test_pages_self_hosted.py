"""No page a service serves needs another host (issue 19): every HTML page (the API docs today) and
the scripts and stylesheets it loads refer only to the service itself, the docs assets come from a
runtime dependency (so every image has them), and the browser is told to load nothing from elsewhere."""

import importlib
import tomllib
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Route

from medsupport_shared.testing.pages import outside_references

SERVICES = ["feedback", "wellbeing", "mentorship", "notifications"]
ROOT = Path(__file__).resolve().parents[2]


def html_pages(app) -> list[str]:
    """Every GET route without path parameters, documented or not (the docs pages are not)."""
    return [
        route.path
        for route in app.routes
        if isinstance(route, APIRoute | Route) and "GET" in (route.methods or ()) and "{" not in route.path
    ]


@pytest.mark.parametrize("service", SERVICES)
async def test_every_html_page_refers_only_to_the_service_itself(service):
    app = importlib.import_module(f"{service}.app").create_app()  # the docs need no storage: no lifespan
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        pages = []
        for path in html_pages(app):
            response = await client.get(path)
            if response.headers.get("content-type", "").startswith("text/html"):
                pages.append(path)
                assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "/docs" in pages
        outside = [ref for path in pages for ref in await outside_references(client, path)]
        docs = (await client.get("/docs")).text
        assets = [
            (await client.get(f"/docs-assets/{name}")).status_code
            for name in ("swagger-ui-bundle.js", "swagger-ui.css")
        ]
    assert outside == []
    assert '"validatorUrl": null' in docs  # the online validator badge would send the spec's address out
    assert assets == [200, 200]


def test_the_docs_assets_are_a_locked_runtime_dependency_of_the_shared_library():
    """The images install each service with `uv sync --frozen --no-dev`: the assets must not be dev-only."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    shared = next(p for p in lock["package"] if p["name"] == "medsupport-shared")
    assert "fastapi-offline" in {d["name"] for d in shared["dependencies"]}
    pinned = next(p for p in lock["package"] if p["name"] == "fastapi-offline")
    assert pinned["version"] and pinned.get("wheels")


async def test_the_console_sign_in_page_refers_only_to_the_console_itself():
    """The page everyone reaches first; the signed-in pages are checked in the console's browser tests."""
    from console.app import create_app
    from console.settings import ConsoleSettings

    app = create_app(ConsoleSettings(app_env="development"))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client,
    ):
        page = await client.get("/login")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        assert await outside_references(client, "/login") == []
