"""Development tokens for trying the API and the console (never for production)."""

from __future__ import annotations

import time
from collections.abc import Iterable

import jwt

from medsupport_shared.auth import Role


class RefusedToken(ValueError):
    pass


def mint_development_token(
    *,
    sub: str,
    roles: Iterable[str],
    secret: str,
    app_env: str,
    hours: float = 8.0,
    **claims: str,
) -> str:
    if app_env == "production":
        raise RefusedToken("refusing to mint tokens for APP_ENV=production: tokens come from the identity provider")
    roles = list(roles)
    if unknown := sorted(set(roles) - {r.value for r in Role}):
        raise RefusedToken(f"unknown roles {unknown}; known: {sorted(r.value for r in Role)}")
    if not roles:
        raise RefusedToken("name at least one role (--role counsellor)")
    now = int(time.time())
    payload = {"sub": sub, "roles": roles, "iat": now, "exp": now + int(hours * 3600)}
    payload.update({k: v for k, v in claims.items() if v})
    return jwt.encode(payload, secret, algorithm="HS256")
