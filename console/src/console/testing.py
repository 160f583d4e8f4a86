"""Stand-ins for the services' HTTP answers, to test the console's own behaviour (role checks, CSRF, error pages).
The journeys against the real services, Kafka and MongoDB are in tests/browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi.testclient import TestClient

from console.app import create_app
from console.settings import ConsoleSettings

Handler = Callable[[httpx.Request], httpx.Response]
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeServices:
    def __init__(self) -> None:
        self.calls: list[httpx.Request] = []
        self.routes: dict[tuple[str, str], Handler] = {}
        self.default: tuple[int, Any] = (404, {"title": "Not Found", "status": 404, "detail": "nothing here"})
        self.default_inbox = True

    def on(self, method: str, path: str, status: int = 200, json: Any = None) -> None:
        self.routes[(method, path)] = lambda _: httpx.Response(status, json=json)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        handler = self.routes.get((request.method, request.url.path))
        if handler is not None:
            return handler(request)
        if request.url.path == "/v1/inbox" and self.default_inbox:
            return httpx.Response(200, json={"items": [], "next_cursor": None})
        status, body = self.default
        return httpx.Response(status, json=body) if not isinstance(body, str) else httpx.Response(status, text=body)


def console(fakes: FakeServices, **settings: Any) -> TestClient:
    values: dict[str, Any] = {"app_env": "development", **settings}
    return TestClient(create_app(ConsoleSettings(**values), transport=httpx.MockTransport(fakes)))


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, user: str) -> None:
    token = csrf_of(client.get("/login").text)
    reply = client.post("/login/dev", data={"user": user, "csrf_token": token}, follow_redirects=False)
    assert reply.status_code == 303, reply.text


def csrf(client: TestClient) -> str:
    return csrf_of(client.get("/preferences").text)


def post_form(client: TestClient, url: str, pairs: list[tuple[str, str]], **kwargs: Any) -> httpx.Response:
    """A form with repeated fields (checkboxes), as a browser sends it."""
    body = urlencode(pairs)
    reply: httpx.Response = client.post(
        url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}, **kwargs
    )
    return reply
