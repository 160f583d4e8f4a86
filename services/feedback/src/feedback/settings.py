"""Feedback service settings (environment variables, validated at start-up)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field, SecretStr, field_validator, model_validator

from feedback.domain.feedback import ContextKind
from feedback.domain.ratelimit import parse_networks
from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, ServiceSettings

DEVELOPMENT_FOLLOW_UP_SECRET = "dev-only-insecure-follow-up-code-secret"
DEVELOPMENT_CLIMATE_TOKEN_SECRET = "dev-only-insecure-climate-token-secret"


class FeedbackSettings(ServiceSettings):
    service_name: str = "feedback"
    text_encryption_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
    """Fernet key(s), comma-separated, for free text at rest; the first encrypts (rotation)."""
    follow_up_code_secret: SecretStr = SecretStr(DEVELOPMENT_FOLLOW_UP_SECRET)
    """HMAC key for follow-up code hashes. Changing it invalidates every outstanding code."""

    peer_feedback_context_kinds: list[ContextKind] = Field(default_factory=lambda: [ContextKind.COURSE])
    """Context kinds in which a student may write feedback about a peer."""
    request_due_days: float = Field(default=7.0, ge=0)
    request_due_days_by_kind: dict[ContextKind, float] = Field(default_factory=dict)
    """Per context kind, e.g. ``{"encounter": 3, "rotation": 14}``; others use ``request_due_days``."""
    overdue_sweep_interval_seconds: float = Field(default=60.0, gt=0)

    anonymous_rate_limit: int = Field(default=5, ge=1)
    """Anonymous concern reports accepted per client address (IPv6: per /64) per window."""
    anonymous_rate_window_seconds: float = Field(default=600.0, gt=0)
    follow_up_rate_limit: int = Field(default=30, ge=1)
    """Follow-up code look-ups per client address per window (slows guessing)."""
    anonymous_surge_threshold: int = Field(default=100, ge=1)
    """Anonymous reports per window from all clients together beyond which each further report is still
    accepted but marked ``surge`` for the concerns officer (and counted and logged): never refused."""
    trusted_proxies: list[str] = Field(default_factory=list)
    """CIDRs of our own proxies/ingress (JSON list). ``X-Forwarded-For`` is read only from them."""

    feedback_requests_per_hour: int = Field(default=20, ge=1)
    """Feedback requests one student may send per hour (each alerts an assessor); then 429."""
    peer_feedback_per_hour: int = Field(default=20, ge=1)
    """Peer feedback items one student may write per hour; then 429."""

    cohort_min_group_size: int = Field(default=5, ge=1)
    """A cohort-view row over fewer distinct students is suppressed."""

    concern_triage_hours: float = Field(default=48.0, gt=0)
    """A concern still untriaged (received) this long after it was reported emits ``concern.triage_overdue``
    once (notifications escalates it: admins, and the category's office)."""

    min_group_size: int = Field(default=5, ge=2)
    """Climate results: a rotation with fewer answers is never released; option counts under it are hidden."""
    climate_token_secret: SecretStr = SecretStr(DEVELOPMENT_CLIMATE_TOKEN_SECRET)
    """HMAC key of the per-rotation answer tokens (one answer per student). Changing it during an open
    pulse lets its students answer again."""
    climate_response_days: int = Field(default=14, ge=1, le=120)
    """Days after a rotation ends during which its students may answer; results never before this closes."""
    climate_sweep_interval_seconds: float = Field(default=60.0, gt=0)
    """How often rotations that ended are looked for (invitations) and released results checked (alerts)."""
    climate_drop_threshold: float = Field(default=0.1, gt=0, le=1)
    """A site's subscale worsening by more than this share of its range since its previous period alerts
    its clerkship director (0.1: 0.4 points on a 1-5 scale)."""
    climate_cluster_reports: int = Field(default=3, ge=2)
    """Mistreatment, discrimination or bias reports naming one site within ``climate_cluster_days`` that
    alert its clerkship director (once per site and calendar month; the alert carries no count)."""
    climate_cluster_days: int = Field(default=30, ge=1)
    climate_instrument: str = "medsupport-pulse-1"
    """The instrument a rotation's students answer unless its roster names another."""

    @property
    def due_by_kind(self) -> dict[str, timedelta]:
        return {kind.value: timedelta(days=days) for kind, days in self.request_due_days_by_kind.items()}

    @property
    def default_due(self) -> timedelta:
        return timedelta(days=self.request_due_days)

    @field_validator("trusted_proxies")
    @classmethod
    def _valid_cidrs(cls, value: list[str]) -> list[str]:
        parse_networks(value)
        return value

    @model_validator(mode="after")
    def _refuse_weak_follow_up_secret(self) -> FeedbackSettings:
        if self.app_env == "production":
            secret = self.follow_up_code_secret.get_secret_value()
            if secret == DEVELOPMENT_FOLLOW_UP_SECRET or len(secret) < 32:
                raise ValueError(
                    "refusing to start in production: FOLLOW_UP_CODE_SECRET must be set to a random value "
                    "of at least 32 characters"
                )
            token_secret = self.climate_token_secret.get_secret_value()
            if token_secret == DEVELOPMENT_CLIMATE_TOKEN_SECRET or len(token_secret) < 32:
                raise ValueError(
                    "refusing to start in production: CLIMATE_TOKEN_SECRET must be set to a random value "
                    "of at least 32 characters"
                )
        return self
