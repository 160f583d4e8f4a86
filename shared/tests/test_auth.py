"""Auth and problem+json, through a real app (no lifespan needed: auth touches no database)."""

import http.server
import json
import threading
import time

import httpx
import jwt
import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.asymmetric import ec, rsa

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


async def test_token_without_iat_or_living_too_long_is_401(client):
    now = int(time.time())
    no_iat = jwt.encode({"sub": "c1", "roles": ["counsellor"], "exp": now + 60}, DEVELOPMENT_JWT_SECRET)
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {no_iat}"}), 401)
    ten_years = token_for("c1", "counsellor", expires_in=10 * 365 * 86400)
    body = assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {ten_years}"}), 401)
    assert "longer than" in body["detail"]
    assert (await client.get("/v1/whoami", headers=auth("c1", "counsellor"))).status_code == 200


@pytest.mark.parametrize(
    "claims",
    [
        {"name": {"first": "x"}},
        {"email": ["a@b.c"]},
        {"cohort": {"$ne": 1}},
        {"sub": 42},
        {"roles": "counsellor"},
        {"iat": "yesterday"},
    ],
)
async def test_claims_of_the_wrong_type_are_401_not_500(client, claims):
    now = int(time.time())
    payload = json.dumps({"sub": "c1", "roles": ["counsellor"], "iat": now, "exp": now + 60, **claims}).encode()
    token = jwt.api_jws.encode(payload, DEVELOPMENT_JWT_SECRET, algorithm="HS256")  # PyJWT's encode checks types
    assert_problem(await client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}), 401)


class _Jwks:
    """A JWKS endpoint on loopback serving one RSA key (kid "rsa-1"), as an identity provider does."""

    def __init__(self, delay: float = 0.0) -> None:
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        body = json.dumps({"keys": [{**jwk, "kid": "rsa-1", "use": "sig", "alg": "RS256"}]}).encode()
        self.released = released = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                released.wait(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"

    def token(self, **claims: object) -> str:
        now = int(time.time())
        payload = {"sub": "c1", "roles": ["counsellor"], "iat": now, "exp": now + 600, **claims}
        return jwt.encode(payload, self.private, algorithm="RS256", headers={"kid": "rsa-1"})


@pytest.fixture
def jwks(monkeypatch):
    idp = _Jwks()
    monkeypatch.setenv("AUTH_JWKS_URL", idp.url)
    monkeypatch.setenv("AUTH_ISSUER", "https://idp.example.edu")
    monkeypatch.setenv("AUTH_AUDIENCE", "medsupport")
    yield idp
    idp.server.shutdown()


async def test_jwks_tokens_with_a_foreign_audience_a_bad_kid_or_algorithm_are_401(jwks):
    app = create_app(DemoSettings())
    ours = {"iss": "https://idp.example.edu", "aud": "medsupport"}
    ec_key = ec.generate_private_key(ec.SECP256R1())
    now = int(time.time())
    es256_naming_the_rsa_kid = jwt.encode(
        {"sub": "c1", "roles": ["admin"], "iat": now, "exp": now + 60, **ours},
        ec_key,
        algorithm="ES256",
        headers={"kid": "rsa-1"},
    )
    unknown_kid = jwt.encode(
        {"sub": "c1", "iat": now, "exp": now + 60, **ours}, jwks.private, algorithm="RS256", headers={"kid": "nope"}
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:

        async def status(token: str) -> int:
            return (await c.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})).status_code

        assert await status(jwks.token(**ours)) == 200
        assert await status(jwks.token(iss="https://idp.example.edu", aud="another-app", roles=["admin"])) == 401
        assert await status(es256_naming_the_rsa_kid) == 401
        assert await status(unknown_kid) == 401
        assert await status(jwks.token(**ours, name=["not", "a", "string"])) == 401


def test_jwks_without_issuer_and_audience_is_refused(monkeypatch):
    monkeypatch.setenv("AUTH_JWKS_URL", "https://idp.example.edu/jwks.json")
    with pytest.raises(ValueError, match="AUTH_ISSUER and AUTH_AUDIENCE"):
        DemoSettings()


def test_production_requires_issuer_and_audience(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("METRICS_BEARER_TOKEN", "metrics-token-for-the-scraper-0123")
    with pytest.raises(ValueError, match="AUTH_ISSUER and AUTH_AUDIENCE must be set"):
        DemoSettings()


async def test_a_slow_identity_provider_gives_a_quick_401_not_a_stall(monkeypatch):
    slow = _Jwks(delay=20)
    monkeypatch.setenv("AUTH_JWKS_URL", slow.url)
    monkeypatch.setenv("AUTH_ISSUER", "https://idp.example.edu")
    monkeypatch.setenv("AUTH_AUDIENCE", "medsupport")
    monkeypatch.setenv("AUTH_JWKS_TIMEOUT_SECONDS", "0.5")
    app = create_app(DemoSettings())
    token = slow.token(iss="https://idp.example.edu", aud="medsupport")
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            response = await c.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    finally:
        slow.released.set()
        slow.server.shutdown()
    assert_problem(response, 401)
    assert time.monotonic() - started < 5  # PyJWT's default would wait 30 s
