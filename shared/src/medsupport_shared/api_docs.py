"""The service's own API docs page: Swagger UI served from the service itself, with its JavaScript and CSS
pinned in the ``fastapi-offline`` package (locked in uv.lock, installed in every image), so ``/docs`` works
on a clinical network with no route to the internet. ReDoc is not offered: its bundle loads its logo
from the vendor's CDN. A Content-Security-Policy on every HTML page lets the browser load nothing from
another host, whatever a future asset bundle tries."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_URL = "/docs"
DOCS_ASSETS_URL = "/docs-assets"
# Swagger UI's start-up script is inline (FastAPI writes it into the page), hence 'unsafe-inline' for
# scripts; every fetch, image, font and style stays on the service's own origin.
HTML_CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)


def app_with_offline_docs(**fastapi_options: Any) -> FastAPI:
    """A FastAPI app whose ``/docs`` needs nothing from the internet. The online validator badge is off:
    it would send the document's address to an outside host."""
    app = FastAPIOffline(
        docs_url=DOCS_URL,
        redoc_url=None,
        static_url=DOCS_ASSETS_URL,
        swagger_ui_parameters={"validatorUrl": None},
        **fastapi_options,
    )
    app.add_middleware(SelfHostedPagesMiddleware)
    return app


class SelfHostedPagesMiddleware:
    """Adds the Content-Security-Policy to every ``text/html`` response (the API's JSON is untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if headers.get("content-type", "").startswith("text/html"):
                    headers["Content-Security-Policy"] = HTML_CONTENT_SECURITY_POLICY
            await send(message)

        await self.app(scope, receive, send_with_policy)
