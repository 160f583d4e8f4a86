"""JWT bearer authentication and role checks as FastAPI dependencies (docs/CONTRACT.md, Identity and roles)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medsupport_shared.errors import Forbidden, Unauthorized
from medsupport_shared.settings import ServiceSettings

LEEWAY_SECONDS = 30
"""Clock skew tolerated between the identity provider and the services (``exp``, ``iat``, ``nbf``)."""


class Role(StrEnum):
    STUDENT = "student"
    FACULTY = "faculty"
    MENTOR = "mentor"
    COUNSELLOR = "counsellor"
    WELLBEING_LEAD = "wellbeing_lead"
    CONCERNS_OFFICER = "concerns_officer"
    CLERKSHIP_DIRECTOR = "clerkship_director"
    """Leads clerkships: reads released climate results and is alerted when a site's climate drops."""
    EQUITY = "equity"
    """Equity, diversity and inclusion office: discrimination and bias concerns are routed to it."""
    PROFESSIONALISM_LEAD = "professionalism_lead"
    """Professionalism concerns are routed to it."""
    ADMIN = "admin"
    OPS = "ops"


class Principal(BaseModel):
    """The authenticated caller, from the token's claims (types checked: a claim of another type is a 401)."""

    model_config = ConfigDict(strict=True)

    sub: str = Field(min_length=1, max_length=200)
    roles: frozenset[str] = frozenset()
    name: str | None = Field(default=None, max_length=500)
    email: str | None = Field(default=None, max_length=320)
    cohort: str | None = Field(default=None, max_length=100)

    def has_any(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)


class TokenVerifier:
    """Verifies HS256 tokens with a shared secret, or RS256/ES256 tokens through a JWKS URL. Every way a
    token can be wrong (signature, key, algorithm, claims and their types, lifetime) is a 401, never a 500."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._secret = settings.auth_jwt_secret.get_secret_value()
        self._issuer = settings.auth_issuer
        self._audience = settings.auth_audience
        self._max_lifetime = settings.auth_max_token_lifetime_seconds
        self._jwks = (
            jwt.PyJWKClient(settings.auth_jwks_url, cache_keys=True, timeout=settings.auth_jwks_timeout_seconds)
            if settings.auth_jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            claims = await self._decode(token)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired") from exc
        except Exception as exc:  # any library or key error is the caller's bad token, not a server fault
            raise Unauthorized("the token is not valid") from exc
        issued, expires = claims["iat"], claims["exp"]
        if not isinstance(issued, int | float) or not isinstance(expires, int | float):
            raise Unauthorized("the token's iat and exp must be numbers")
        if expires - issued > self._max_lifetime:
            raise Unauthorized(f"the token lives longer than {self._max_lifetime} seconds")
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("the token's roles claim must be a list of strings")
        cohort: Any = claims.get("cohort")
        if isinstance(cohort, int) and not isinstance(cohort, bool):  # "cohort": 2027 from some providers
            cohort = str(cohort)
        try:
            return Principal(
                sub=claims["sub"],
                roles=frozenset(roles),
                name=claims.get("name"),
                email=claims.get("email"),
                cohort=cohort,
            )
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
            raise Unauthorized(f"the token's claims have the wrong type: {fields}") from exc

    async def _decode(self, token: str) -> dict[str, Any]:
        if self._jwks is not None:
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            key: Any = signing_key.key
            algorithms = ["RS256", "ES256"]
        else:
            key, algorithms = self._secret, ["HS256"]
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            issuer=self._issuer,
            audience=self._audience,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub"], "verify_aud": self._audience is not None},
        )
        return claims


_bearer = HTTPBearer(auto_error=False, description="A JWT issued by the institution's identity provider")


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized()
    verifier: TokenVerifier = request.app.state.token_verifier
    return await verifier.verify(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_roles(*roles: Role | str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits a caller holding any of ``roles`` (403 otherwise)."""
    allowed = frozenset(str(r) for r in roles)

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.roles & allowed:
            raise Forbidden(f"requires one of the roles: {', '.join(sorted(allowed))}")
        return principal

    return dependency
