"""Server-side sessions, cookie attributes, CSRF and the development-only sign-in."""

import importlib.util
from pathlib import Path

import pytest
from pydantic import ValidationError

from console.auth import DEMO_USERS
from console.settings import DEVELOPMENT_JWT_SECRET, ConsoleSettings
from console.testing import FakeServices, console, csrf, csrf_of, sign_in
from medsupport_shared.settings import DEVELOPMENT_JWT_SECRET as SERVICES_DEVELOPMENT_SECRET


def test_the_session_cookie_is_http_only_same_site_lax_and_holds_no_token():
    fakes = FakeServices()
    client = console(fakes)
    first = client.get("/login")
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    sign_in(client, "counsellor-ada")
    page = client.get("/")
    token = fakes.calls[-1].headers["Authorization"].removeprefix("Bearer ")
    assert token.count(".") == 2  # a JWT went to the service...
    assert token not in page.text and all(token not in v for v in client.cookies.values())  # ...never to the browser


def test_cookies_are_secure_in_production_which_needs_an_identity_provider(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    assert ConsoleSettings(app_env="production", oidc_issuer="https://idp", oidc_client_id="c").secure_cookies
    with pytest.raises(ValidationError):
        ConsoleSettings(app_env="production")
    with pytest.raises(ValidationError):
        ConsoleSettings()  # APP_ENV defaults to production


def test_signing_in_gives_a_new_session_id_so_a_planted_one_is_worth_nothing():
    client = console(FakeServices())
    client.get("/login")
    planted = client.cookies["console_session"]
    sign_in(client, "counsellor-ada")
    assert client.cookies["console_session"] != planted


def test_a_post_without_the_csrf_token_is_refused_and_reaches_no_service():
    fakes = FakeServices()
    client = console(fakes)
    sign_in(client, "counsellor-ada")
    before = len(fakes.calls)
    reply = client.post("/alerts/a1/ack", data={})
    assert reply.status_code == 403 and "Request refused" in reply.text
    reply = client.post("/alerts/a1/ack", data={"csrf_token": "forged"})
    assert reply.status_code == 403
    assert len(fakes.calls) == before


def test_sign_in_itself_needs_the_csrf_token():
    client = console(FakeServices())
    client.get("/login")
    assert client.post("/login/dev", data={"user": "admin-amy"}).status_code == 403


def test_the_demo_users_are_offered_only_in_development():
    client = console(FakeServices(), app_env="test")
    page = client.get("/login")
    assert "counsellor-ada" not in page.text
    reply = client.post(
        "/login/dev",
        data={"user": "counsellor-ada", "csrf_token": csrf_of(page.text) if "csrf_token" in page.text else ""},
    )
    assert reply.status_code in (403, 404)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_page_without_a_session_sends_to_sign_in_and_back():
    client = console(FakeServices())
    reply = client.get("/flags?status=open", follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == "/login?next=%2Fflags%3Fstatus%3Dopen"
    token = csrf_of(client.get("/login?next=%2Fflags").text)
    done = client.post("/login/dev", data={"user": "counsellor-ada", "csrf_token": token}, follow_redirects=False)
    assert done.headers["location"] == "/flags"


def test_sign_in_never_sends_anyone_to_another_site():
    client = console(FakeServices())
    token = csrf_of(client.get("/login?next=//evil.example/").text)
    done = client.post("/login/dev", data={"user": "counsellor-ada", "csrf_token": token}, follow_redirects=False)
    assert done.headers["location"] == "/"


def test_signing_out_ends_the_session():
    client = console(FakeServices())
    sign_in(client, "counsellor-ada")
    client.post("/logout", data={"csrf_token": csrf(client)})
    assert client.get("/", follow_redirects=False).status_code == 303


def test_the_demo_users_and_secret_are_those_of_make_up():
    seed_path = Path(__file__).resolve().parents[3] / "deploy" / "local" / "seed_demo.py"
    spec = importlib.util.spec_from_file_location("seed_demo", seed_path)
    assert spec and spec.loader
    seed = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seed)
    assert {user: roles for user, roles in seed.USERS.items() if "student" not in roles} == DEMO_USERS
    assert DEVELOPMENT_JWT_SECRET == SERVICES_DEVELOPMENT_SECRET


def test_probes_and_assets_create_no_session_and_the_store_is_bounded(monkeypatch):
    client = console(FakeServices())
    store = client.app.state.sessions
    for path in ("/healthz", "/readyz", "/static/console.css"):
        reply = client.get(path)
        assert reply.status_code == 200 and "set-cookie" not in reply.headers
    assert len(store) == 0
    monkeypatch.setattr("console.sessions.MAX_SESSIONS", 3)
    sign_in(client, "counsellor-ada")
    mine = client.cookies["console_session"]
    for _ in range(5):
        store.new()
        assert store.get(mine) is not None  # in use, so never the one evicted
    assert len(store) == 3


def test_a_missing_asset_or_unknown_page_is_a_404_never_a_500():
    client = console(FakeServices())
    for path in ("/static/nope.js", "/static/../app.py", "/healthzz", "/nope", "/alerts/"):
        assert client.get(path).status_code == 404, path
