"""Auth and problem+json, through a real app (no lifespan needed: auth touches no database)."""

import httpx
import jwt
import pytest

from medsupport_shared.settings import DEVELOPMENT_JWT_SECRET
from medsupport_shared.testing import auth, token_for

from .demo_service import DemoSettings, create_app

PROBLEM = "application/problem+json"


@pytest.fixture
async def client():
    app = create_app(DemoSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"].startswith("https://")
    return body


async def test_no_token_is_401(client):
    assert_problem(await client.get("/v1/whoami"), 401)


async def test_bad_signature_is_401(client):
    forged = token_for("c1", "counsellor", secret="not-the-secret-not-the-secret-xx")
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {forged}"}), 401)


async def test_expired_token_is_401(client):
    expired = token_for("c1", "counsellor", expires_in=-60)
    body = assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {expired}"}), 401)
    assert "expired" in body["detail"]


async def test_token_without_exp_is_401(client):
    token = jwt.encode({"sub": "c1", "roles": ["counsellor"]}, DEVELOPMENT_JWT_SECRET, algorithm="HS256")
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}), 401)


async def test_garbage_and_wrong_scheme_are_401(client):
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": "Bearer abc.def"}), 401)
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401)


async def test_wrong_role_is_403(client):
    assert_problem(await client.get("/v1/whoami", headers=auth("s1", "student")), 403)


async def test_right_role_passes(client):
    response = await client.get("/v1/whoami", headers=auth("c1", "counsellor"))
    assert response.status_code == 200 and response.json() == {"sub": "c1"}


async def test_validation_error_is_422_problem_with_errors_and_no_echo(client):
    response = await client.post("/v1/notes", json={"text": "x" * 500}, headers=auth("s1", "student"))
    body = assert_problem(response, 422)
    assert body["errors"] and body["errors"][0]["loc"] == ["body", "text"]
    assert "x" * 100 not in response.text


async def test_unknown_route_is_404_problem(client):
    assert_problem(await client.get("/v1/nothing-here"), 404)


async def test_issuer_and_audience_checked_when_set(monkeypatch):
    monkeypatch.setenv("AUTH_ISSUER", "https://idp.example.edu")
    monkeypatch.setenv("AUTH_AUDIENCE", "medsupport")
    app = create_app(DemoSettings())
    good = token_for("c1", "counsellor", iss="https://idp.example.edu", aud="medsupport")
    bad = token_for("c1", "counsellor", iss="https://evil.example", aud="medsupport")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/v1/whoami", headers={"Authorization": f"Bearer {good}"})).status_code == 200
        assert_problem(await c.get("/v1/whoami", headers={"Authorization": f"Bearer {bad}"}), 401)


async def test_cors_preflight_allows_configured_origin(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", '["https://portal.example.edu"]')
    app = create_app(DemoSettings())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ok = await c.options(
            "/v1/notes",
            headers={
                "Origin": "https://portal.example.edu",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,idempotency-key",
            },
        )
        assert ok.headers["access-control-allow-origin"] == "https://portal.example.edu"
        denied = await c.options(
            "/v1/notes", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
        )
        assert "access-control-allow-origin" not in denied.headers


async def test_a_database_outage_is_a_503_problem_naming_no_host_and_every_v1_route_documents_it():
    from pymongo.errors import ServerSelectionTimeoutError

    app = create_app(DemoSettings())

    @app.get("/v1/outage")
    async def outage() -> None:
        raise ServerSelectionTimeoutError("db-host-7.internal:27017: timed out")

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/v1/outage")
    body = assert_problem(response, 503)
    assert "db-host-7" not in response.text and "unavailable" in body["detail"]
    responses = app.openapi()["paths"]["/v1/whoami"]["get"]["responses"]
    assert PROBLEM in responses["503"]["content"]
