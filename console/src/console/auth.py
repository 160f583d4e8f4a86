"""Sign-in: OpenID Connect (authorization code with PKCE, Authlib) and, in development only, the demo users."""

from __future__ import annotations

import time
from typing import Any

import jwt
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console.sessions import User
from console.settings import ConsoleSettings
from console.web import check_csrf, render, replace_session, safe_next, session_of, store_of

router = APIRouter()

# The demo users of `make up` (deploy/local/seed_demo.py; a test keeps the two lists equal).
DEMO_USERS: dict[str, tuple[str, ...]] = {
    "admin-amy": ("admin",),
    "lead-lee": ("wellbeing_lead",),
    "counsellor-ada": ("counsellor",),
    "counsellor-ben": ("counsellor",),
    "officer-omar": ("concerns_officer",),
    "faculty-fay": ("faculty",),
    "mentor-mo": ("mentor", "faculty"),
    "mentor-nia": ("mentor", "faculty"),
}
DEV_TOKEN_SECONDS = 12 * 3600


def oidc_client(settings: ConsoleSettings) -> Any:
    oauth = OAuth()
    oauth.register(
        name="idp",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        server_metadata_url=f"{(settings.oidc_issuer or '').rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
    )
    return oauth.create_client("idp")


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    if session_of(request).signed_in():
        return RedirectResponse(safe_next(next), status_code=303)
    session_of(request).data["next"] = safe_next(next)
    users = DEMO_USERS if settings.development else {}
    return render(request, "login.html", users=users, oidc=settings.oidc_enabled)


@router.post("/login/dev")
async def dev_login(request: Request, user: str = Form(...)) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    session = session_of(request)
    await check_csrf(request, session)
    if not settings.development or user not in DEMO_USERS:
        return render(request, "error.html", status_code=404, title="No such sign-in", messages=[])
    roles = DEMO_USERS[user]
    issued = int(time.time())
    expires = issued + DEV_TOKEN_SECONDS  # the services require iat and refuse tokens living over 12 h
    token = jwt.encode(
        {"sub": user, "roles": list(roles), "name": user, "iat": issued, "exp": expires},
        settings.auth_jwt_secret,
        algorithm="HS256",
    )
    return _signed_in(request, User(sub=user, name=user, roles=frozenset(roles)), token, float(expires))


@router.get("/login/oidc")
async def oidc_login(request: Request) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    if not settings.oidc_enabled:
        return render(request, "error.html", status_code=404, title="Single sign-on is not configured", messages=[])
    client = oidc_client(settings)
    redirect_uri = settings.oidc_redirect_uri or str(request.url_for("oidc_callback"))
    response: Response = await client.authorize_redirect(request, redirect_uri)
    return response


@router.get("/auth/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    settings: ConsoleSettings = request.app.state.settings
    if not settings.oidc_enabled:
        return render(request, "error.html", status_code=404, title="Single sign-on is not configured", messages=[])
    try:
        token = await oidc_client(settings).authorize_access_token(request)
    except (OAuthError, ValueError, KeyError) as exc:
        return render(
            request, "error.html", status_code=400, title="Sign-in did not complete", messages=[_oauth_reason(exc)]
        )
    claims = token.get("userinfo") or {}
    roles = claims.get(settings.oidc_roles_claim) or []
    user = User(
        sub=str(claims["sub"]),
        name=str(claims.get("name") or claims.get("preferred_username") or claims["sub"]),
        roles=frozenset(str(r) for r in (roles if isinstance(roles, list) else [roles])),
    )
    expires = token.get("expires_at")
    return _signed_in(request, user, str(token["access_token"]), float(expires) if expires else None)


@router.post("/logout")
async def logout(request: Request) -> Response:
    session = session_of(request)
    await check_csrf(request, session)
    replace_session(request, store_of(request).end(session))
    return RedirectResponse("/login", status_code=303)


def _signed_in(request: Request, user: User, token: str, expires_at: float | None) -> Response:
    session = session_of(request)
    next_page = safe_next(session.data.get("next"))
    replace_session(request, store_of(request).sign_in(session, user=user, token=token, expires_at=expires_at))
    return RedirectResponse(next_page, status_code=303)


def _oauth_reason(exc: Exception) -> str:
    return getattr(exc, "description", None) or getattr(exc, "error", None) or "the identity provider refused it"
