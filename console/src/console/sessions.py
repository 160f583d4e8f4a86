"""Server-side sessions: the browser holds only a random id in an HttpOnly cookie; the API token stays here.

The store is in memory (one console process; several replicas need sticky sessions), and a session is
forgotten after SESSION_IDLE_MINUTES without a request or when its API token expires."""

from __future__ import annotations

import hmac
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "console_session"
MAX_SESSIONS = 20_000
SESSIONLESS = ("/static/", "/healthz", "/readyz")
"""Paths that need no session: probes and assets never create one."""


@dataclass(frozen=True)
class User:
    sub: str
    name: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


@dataclass
class Session:
    id: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    last_seen: float = field(default_factory=time.monotonic)
    user: User | None = None
    token: str | None = None
    token_expires_at: float | None = None  # wall-clock seconds
    data: dict[str, Any] = field(default_factory=dict)  # OIDC state (Authlib), flash messages

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf, presented or "")

    def signed_in(self) -> bool:
        expired = self.token_expires_at is not None and self.token_expires_at <= time.time()
        return self.user is not None and self.token is not None and not expired


class SessionStore:
    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()  # least recently seen first

    def __len__(self) -> int:
        return len(self._sessions)

    def get(self, session_id: str | None) -> Session | None:
        session = self._sessions.get(session_id or "")
        if session is None:
            return None
        if time.monotonic() - session.last_seen > self.idle_seconds:
            self._sessions.pop(session.id, None)
            return None
        session.last_seen = time.monotonic()
        self._sessions.move_to_end(session.id)
        return session

    def new(self) -> Session:
        while len(self._sessions) >= MAX_SESSIONS:  # the least recently seen goes first, in constant time
            self._sessions.popitem(last=False)
        session = Session(id=secrets.token_urlsafe(32))
        self._sessions[session.id] = session
        return session

    def sign_in(self, session: Session, *, user: User, token: str, expires_at: float | None) -> Session:
        """A fresh id and CSRF token at sign-in, so an id planted before it is worth nothing after."""
        self._sessions.pop(session.id, None)
        fresh = self.new()
        fresh.user, fresh.token, fresh.token_expires_at = user, token, expires_at
        return fresh

    def end(self, session: Session) -> Session:
        self._sessions.pop(session.id, None)
        return self.new()


class SessionMiddleware:
    """Puts the request's Session in scope["console.session"] (and its data in scope["session"] for Authlib)."""

    def __init__(self, app: ASGIApp, *, store: SessionStore, secure: bool) -> None:
        self.app, self.store, self.secure = app, store, secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).startswith(SESSIONLESS):
            await self.app(scope, receive, send)
            return
        cookie_id = _cookie(scope)
        session = self.store.get(cookie_id) or self.store.new()
        holder = {"session": session}
        scope["console.session"] = holder
        scope["session"] = session.data

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                current: Session = holder["session"]
                if current.id != cookie_id:
                    headers = MutableHeaders(scope=message)
                    attrs = f"{COOKIE}={current.id}; Path=/; HttpOnly; SameSite=Lax"
                    headers.append("Set-Cookie", attrs + ("; Secure" if self.secure else ""))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed Cookie header is no session, never a 500
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
