"""The console's settings: environment variables, validated at start-up (production needs an identity provider)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The services' documented development secret (medsupport_shared.settings.DEVELOPMENT_JWT_SECRET; a test keeps
# them equal). The console signs development tokens with it only when APP_ENV=development.
DEVELOPMENT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore")

    app_env: Literal["development", "test", "production"] = "production"
    feedback_url: str = "http://127.0.0.1:8001"
    wellbeing_url: str = "http://127.0.0.1:8002"
    mentorship_url: str = "http://127.0.0.1:8003"
    notifications_url: str = "http://127.0.0.1:8004"
    api_timeout_seconds: float = 10.0
    session_idle_minutes: int = 12 * 60
    # OpenID Connect (authorization code with PKCE): the institution's identity provider.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    oidc_redirect_uri: str | None = None
    oidc_scopes: str = "openid profile email"
    oidc_roles_claim: str = "roles"
    # Development sign-in (GET /login lists the demo users): tokens signed with the services' dev secret.
    auth_jwt_secret: str = DEVELOPMENT_JWT_SECRET
    inbox_poll_seconds: float = 0.5  # a new urgent alert shows within 2 s of existing, at 2 light API calls a poll

    @property
    def development(self) -> bool:
        return self.app_env == "development"

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def secure_cookies(self) -> bool:
        return self.app_env == "production"

    @model_validator(mode="after")
    def _an_identity_provider_in_production(self) -> ConsoleSettings:
        if self.app_env == "production" and not self.oidc_enabled:
            raise ValueError("OIDC_ISSUER and OIDC_CLIENT_ID are required when APP_ENV=production")
        return self
