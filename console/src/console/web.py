"""What every page needs: the signed-in person, CSRF checks, API calls with their token, rendering."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console.api import Api, Service
from console.sessions import Session, SessionStore, User
from console.settings import ConsoleSettings

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


class SignInRequired(Exception):
    """No signed-in person (or their token expired): go to the sign-in page and come back."""


class CsrfRejected(Exception):
    """A POST without this session's CSRF token."""


def session_of(request: Request) -> Session:
    session: Session = request.scope["console.session"]["session"]
    return session


def replace_session(request: Request, session: Session) -> None:
    request.scope["console.session"]["session"] = session
    request.scope["session"] = session.data


@dataclass
class Page:
    request: Request
    session: Session
    settings: ConsoleSettings
    api: Api

    @property
    def user(self) -> User:
        assert self.session.user is not None
        return self.session.user

    async def get(self, service: Service, path: str, **params: Any) -> Any:
        return await self.api.get(self.session.token or "", service, path, **params)

    async def send(self, method: str, service: Service, path: str, json: Any = None, **params: Any) -> Any:
        return await self.api.call(self.session.token or "", method, service, path, json=json, params=params)

    def flash(self, message: str) -> None:
        self.session.data.setdefault("flash", []).append(message)

    def render(self, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status_code=status_code, **context)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    session = session_of(request)
    flashes = session.data.pop("flash", []) if not request.headers.get("HX-Request") else []
    return templates.TemplateResponse(
        request,
        template,
        {
            "user": session.user if session.signed_in() else None,
            "csrf": session.csrf,
            "flashes": flashes,
            "nav": navigation(session.user) if session.signed_in() and session.user else [],
            "development": request.app.state.settings.development,
            **context,
        },
        status_code=status_code,
    )


async def signed_in(request: Request) -> Page:
    session = session_of(request)
    if not session.signed_in():
        raise SignInRequired()
    return Page(request=request, session=session, settings=request.app.state.settings, api=request.app.state.api)


async def signed_in_post(request: Request) -> Page:
    """Every state-changing request carries the session's CSRF token (form field or htmx header)."""
    page = await signed_in(request)
    await check_csrf(request, page.session)
    return page


async def check_csrf(request: Request, session: Session) -> None:
    presented = request.headers.get("X-CSRF-Token")
    if presented is None:
        form = await request.form()
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if not session.csrf_ok(presented):
        raise CsrfRejected()


SignedIn = Annotated[Page, Depends(signed_in)]
SignedInPost = Annotated[Page, Depends(signed_in_post)]


def store_of(request: Request) -> SessionStore:
    store: SessionStore = request.app.state.sessions
    return store


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def safe_next(value: str | None) -> str:
    """Only a path on this console (never //host or a scheme), so sign-in cannot send anyone elsewhere."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


# Which screens each role has: the same role checks as the services, so nothing offered is refused.
NAVIGATION: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("/", "Inbox", None),
    ("/flags", "Flags", frozenset({"counsellor", "wellbeing_lead"})),
    ("/overview", "Overview", frozenset({"wellbeing_lead"})),
    ("/concerns", "Concerns", frozenset({"concerns_officer"})),
    ("/mentees", "Mentees", frozenset({"mentor"})),
    ("/staff", "Staff", frozenset({"admin", "wellbeing_lead", "ops"})),
    ("/rota", "Rota", frozenset({"admin", "wellbeing_lead", "ops"})),
    ("/routing", "Routing", frozenset({"admin", "ops", "wellbeing_lead"})),
    ("/matching", "Matching", frozenset({"admin"})),
    ("/preferences", "Preferences", None),
)


def navigation(user: User) -> list[tuple[str, str]]:
    return [(href, label) for href, label, roles in NAVIGATION if roles is None or user.has_any(*roles)]


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def console_link(api_link: str | None) -> str | None:
    """The console page for an alert's link path (the services' links name the API's resources)."""
    if not api_link:
        return None
    for prefix, page in (("/wellbeing/flags/", "/flags/"), ("/feedback/concerns/", "/concerns/")):
        if api_link.startswith(prefix):
            return page + quote(api_link.removeprefix(prefix), safe="")
    if api_link.startswith("/mentorship/assignments/"):
        return "/mentees"
    return None
