"""OpenID Connect sign-in (authorization code with PKCE) against a tiny identity provider served on loopback:
the console verifies the ID token's signature (JWKS), nonce and audience, and the provider checks the
code_verifier against the S256 challenge; the access token then goes to the services, never to the browser."""

import base64
import hashlib
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException
from fastapi.responses import RedirectResponse
from jwt.algorithms import RSAAlgorithm

from console.app import create_app
from console.settings import ConsoleSettings
from console.testing import FakeServices
from medsupport_shared.testing import serving

CLIENT_ID, CLIENT_SECRET = "staff-console", "console-secret"


def identity_provider(issuer_box: dict[str, str], *, roles: list[str]) -> tuple[FastAPI, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": "k1", "alg": "RS256", "use": "sig"}
    pending: dict[str, dict[str, str]] = {}
    seen: dict[str, Any] = {"token_requests": []}
    app = FastAPI()

    @app.get("/.well-known/openid-configuration")
    async def metadata() -> dict[str, Any]:
        issuer = issuer_box["url"]
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }

    @app.get("/jwks")
    async def jwks() -> dict[str, Any]:
        return {"keys": [jwk]}

    @app.get("/authorize")
    async def authorize(
        client_id: str, redirect_uri: str, state: str, code_challenge: str, code_challenge_method: str, nonce: str
    ) -> RedirectResponse:
        assert client_id == CLIENT_ID and code_challenge_method == "S256"
        code = secrets.token_urlsafe(16)
        pending[code] = {"challenge": code_challenge, "nonce": nonce, "redirect_uri": redirect_uri}
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=302)

    @app.post("/token")
    async def token(
        code: str = Form(...),
        code_verifier: str = Form(...),
        redirect_uri: str = Form(...),
        grant_type: str = Form(...),
    ) -> dict[str, Any]:
        seen["token_requests"].append({"code_verifier": code_verifier})
        grant = pending.pop(code, None)
        digest = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or digest != grant["challenge"] or redirect_uri != grant["redirect_uri"]:
            raise HTTPException(400, "invalid_grant")
        now = int(time.time())
        claims = {
            "iss": issuer_box["url"],
            "sub": "u-42",
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 600,
            "nonce": grant["nonce"],
            "name": "Dr Quinn",
            "roles": roles,
        }
        id_token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        access = jwt.encode({**claims, "aud": "medsupport"}, key, algorithm="RS256", headers={"kid": "k1"})
        seen["access_token"] = access
        return {"access_token": access, "id_token": id_token, "token_type": "Bearer", "expires_in": 600}

    return app, seen


async def test_a_counsellor_signs_in_through_the_identity_provider_with_pkce():
    issuer: dict[str, str] = {}
    idp, seen = identity_provider(issuer, roles=["counsellor"])
    fakes = FakeServices()
    async with serving(idp) as idp_url:
        issuer["url"] = idp_url
        settings = ConsoleSettings(
            app_env="test",
            oidc_issuer=idp_url,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_redirect_uri="http://console.test/auth/callback",
        )
        app = create_app(settings, transport=httpx.MockTransport(fakes))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as browser,
            httpx.AsyncClient(base_url=idp_url) as to_idp,
        ):
            login = await browser.get("/login")
            assert "Sign in with your institution account" in login.text and "counsellor-ada" not in login.text
            start = await browser.get("/login/oidc")
            assert start.status_code == 302
            asked = parse_qs(urlsplit(start.headers["location"]).query)
            assert asked["code_challenge_method"] == ["S256"] and asked["response_type"] == ["code"]
            back = await to_idp.get(start.headers["location"])  # the person signs in at the provider
            callback = urlsplit(back.headers["location"])
            done = await browser.get(f"{callback.path}?{callback.query}")
            assert done.status_code == 303 and done.headers["location"] == "/"
            assert len(seen["token_requests"]) == 1  # the code was redeemed with its verifier

            inbox = await browser.get("/")
            assert inbox.status_code == 200 and "Dr Quinn" in inbox.text and 'href="/flags"' in inbox.text
            assert fakes.calls[-1].headers["Authorization"] == f"Bearer {seen['access_token']}"
            assert seen["access_token"] not in inbox.text

            replayed = await browser.get(f"{callback.path}?{callback.query}")  # a second use of the code fails
            assert replayed.status_code == 400


async def test_a_callback_with_a_forged_state_signs_nobody_in():
    issuer: dict[str, str] = {}
    idp, _ = identity_provider(issuer, roles=["counsellor"])
    async with serving(idp) as idp_url:
        issuer["url"] = idp_url
        settings = ConsoleSettings(
            app_env="test", oidc_issuer=idp_url, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
        )
        app = create_app(settings, transport=httpx.MockTransport(FakeServices()))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console.test") as browser:
            reply = await browser.get("/auth/callback?code=stolen&state=forged")
            assert reply.status_code == 400 and "Sign-in did not complete" in reply.text
            assert (await browser.get("/", follow_redirects=False)).status_code == 303
