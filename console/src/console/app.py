"""The staff console: composition, error pages and security headers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console import auth, formatting, pages_admin, pages_concerns, pages_flags, pages_inbox, pages_people
from console.api import Api, ApiError
from console.sessions import SessionMiddleware, SessionStore
from console.settings import ConsoleSettings
from console.web import (
    CsrfRejected,
    SignInRequired,
    login_url,
    render,
    replace_session,
    session_of,
    store_of,
    templates,
)

# Nothing from another host, no inline script (issue 19); no referrer, so alert ids in URLs go nowhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                headers.extend((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
                if not scope.get("path", "").startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))  # pages hold health data
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


def create_app(settings: ConsoleSettings | None = None, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await app.state.api.close()

    app = FastAPI(title="medsupport staff console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.api = Api(settings, transport=transport)
    app.state.sessions = SessionStore(idle_seconds=settings.session_idle_minutes * 60)
    templates.env.filters.update(
        when=formatting.when, relative=formatting.relative, words=formatting.words, iso=formatting.iso
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    for module in (auth, pages_inbox, pages_flags, pages_concerns, pages_admin, pages_people):
        app.include_router(module.router)
    app.add_middleware(SessionMiddleware, store=app.state.sessions, secure=settings.secure_cookies)
    app.add_middleware(SecurityHeaders)

    @app.get("/healthz", include_in_schema=False)
    @app.get("/readyz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        """Ready as soon as it serves: a service that is down is a clear 503 page, not a console to hide."""
        return {"status": "ok"}

    @app.exception_handler(SignInRequired)
    async def sign_in(request: Request, _: Exception) -> Response:
        if request.headers.get("HX-Request"):  # an htmx poll after the session ended: reload to the sign-in page
            return Response(status_code=204, headers={"HX-Redirect": login_url(request)})
        return RedirectResponse(login_url(request), status_code=303)

    @app.exception_handler(CsrfRejected)
    async def csrf(request: Request, _: Exception) -> Response:
        messages = ["The form was out of date or did not come from this console. Go back, reload and try again."]
        return render(request, "error.html", status_code=403, title="Request refused", messages=messages)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        if exc.status == 401:  # the token expired or was revoked: this session is over
            replace_session(request, store_of(request).end(session_of(request)))
            messages = ["Your sign-in has expired. Sign in again to continue."]
            return render(request, "error.html", status_code=401, title="Signed out", messages=messages, sign_in=True)
        titles = {
            403: "You do not have access to this",
            404: "Not found",
            503: "A service is unavailable",
        }
        title = titles.get(exc.status, exc.title)
        messages = ([exc.title] if exc.status == 503 else []) + exc.messages()  # 503: which service
        return render(request, "error.html", status_code=exc.status, title=title, messages=messages)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if "console.session" not in request.scope:  # an asset or probe path: no page around it
            return PlainTextResponse(str(exc.detail), status_code=exc.status_code)
        title = "Page not found" if exc.status_code == 404 else str(exc.detail)
        return render(request, "error.html", status_code=exc.status_code, title=title, messages=[])

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: Exception) -> Response:
        return render(
            request, "error.html", status_code=422, title="Something in the form is missing", messages=["Go back."]
        )

    return app
