"""Notifications settings: channels, retries, escalation and grouping."""

from __future__ import annotations

import json
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, EmailStr, Field, HttpUrl, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from medsupport_shared.settings import DEVELOPMENT_WEBHOOK_SECRET, ServiceSettings
from notifications.domain.delivery_policy import known_zone
from notifications.webhook_targets import WebhookPolicy


class NotificationsSettings(ServiceSettings):
    service_name: str = "notifications"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_from: str = "medsupport alerts <alerts@medsupport.local>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    """Upgrade every SMTP connection with STARTTLS and refuse to send when the server does not offer it;
    turn off only for a local mail catcher (required in production unless ``SMTP_TLS=implicit``)."""
    smtp_tls: Literal["starttls", "implicit"] = "starttls"
    """``implicit``: TLS from the first byte (usually port 465) instead of STARTTLS."""
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    """Total deadline of one e-mail send."""
    webhook_signing_secret: SecretStr = SecretStr(DEVELOPMENT_WEBHOOK_SECRET)
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    """Total deadline of one webhook send (connect, request, reply), however the endpoint drip-feeds."""
    webhook_max_response_bytes: int = Field(default=64 * 1024, ge=0)
    """At most this much of a webhook's reply is read; the rest is dropped with the connection."""
    webhook_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated host names, addresses or networks (CIDR) webhooks may go to although they are not
    public, e.g. ``127.0.0.1`` for a local receiver or ``10.20.0.0/16`` for an internal chat server. Every
    other loopback, link-local (169.254.169.254), private or reserved address is refused, also after DNS."""
    webhook_allow_private_networks: bool = False
    """Development only: allow loopback and private ranges (never link-local) without naming them."""
    delivery_concurrency: int = Field(default=32, ge=1, le=1000)
    """Sends in flight at once per instance (first attempts and retries alike); one slow endpoint holds one slot."""
    delivery_max_attempts: int = Field(default=5, ge=1, le=20)
    delivery_backoff_base_seconds: float = Field(default=2.0, gt=0)
    delivery_backoff_cap_seconds: float = Field(default=300.0, gt=0)
    delivery_sweep_interval_seconds: float = Field(default=1.0, gt=0)
    escalation_sweep_interval_seconds: float = Field(default=5.0, gt=0)
    working_timezone: Annotated[str, AfterValidator(known_zone)] = "UTC"
    """Where escalation steps that count working days only (Monday–Friday) are counted, e.g. Europe/London."""
    grouping_window_minutes: float = Field(default=30.0, ge=0)
    """A burst of alerts about the same student for the same recipient inside this window is one alert."""
    anonymous_alert_max_delay_seconds: float = Field(default=3600.0, ge=0, le=86400)
    """E-mails and webhooks about an anonymous concern report are sent after a random delay in [0, this]
    (one hour, the granularity of the report's rounded time); 0 sends at once. The in-app inbox is not delayed."""
    audit_retention_days: float = Field(default=2190.0, gt=0)
    """Staff reads of wellbeing alerts (``GET /v1/alert-reads``) are kept this long (six years, as wellbeing's
    audit trail), then deleted by the retention sweep."""
    email_include_reasons: bool = False
    """E-mails carry a severity, a title and a link only; true adds the reason codes and the subject's id
    (reason codes such as ``phq9_item9_positive`` are health data: only for a mail system you trust with it)."""
    webhook_include_reasons: bool = False
    """The same for webhooks (often third-party chat services)."""
    sse_poll_seconds: float = Field(default=1.0, gt=0)
    sse_max_streams_per_user: int = Field(default=3, ge=1, le=100)
    """Live inbox streams one user may hold open at once on one instance; more are refused with 429."""
    stream_ticket_seconds: float = Field(default=60.0, gt=0, le=600)
    """How long a single-use inbox stream ticket (``POST /v1/inbox/stream-tickets``) can be redeemed."""
    public_base_url: str = "http://localhost:3000"
    """The student-facing frontend's base URL, prefixed to the link path in e-mails to students."""
    console_base_url: str = "http://127.0.0.1:8080"
    """The staff console's base URL: staff e-mails and webhooks link to ``{CONSOLE_BASE_URL}/alerts/{alert_id}``,
    a page that shows the alert to a signed-in recipient (acknowledging is a button there, never a GET)."""

    @field_validator("webhook_allowed_hosts", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """``a,b`` or a JSON list ``["a", "b"]``."""
        if isinstance(value, str):
            return json.loads(value) if value.lstrip().startswith("[") else [p.strip() for p in value.split(",")]
        return value

    @property
    def webhook_policy(self) -> WebhookPolicy:
        return WebhookPolicy.of(self.webhook_allowed_hosts, allow_private_networks=self.webhook_allow_private_networks)

    @model_validator(mode="after")
    def _require_smtp_tls_in_production(self) -> NotificationsSettings:
        if self.app_env == "production" and self.smtp_tls != "implicit" and not self.smtp_starttls:
            raise ValueError(
                "refusing to start in production: SMTP_STARTTLS=false sends alert e-mail in clear "
                "(use STARTTLS, or SMTP_TLS=implicit)"
            )
        return self

    @property
    def delivery_lease_seconds(self) -> float:
        """How long a claimed delivery stays with its worker: the longest send plus a margin. A worker that
        died (crash, lost database) leaves it to be retried by any instance once this has passed."""
        return max(self.webhook_timeout_seconds, self.smtp_timeout_seconds) + 5.0

    alert_retention_days: float = Field(default=180.0, gt=0)
    """Closed and routine alerts (with their deliveries) are deleted this long after their last change."""
    safety_floor_email: EmailStr | None = None
    safety_floor_webhook_url: HttpUrl | None = None
    """The safety floor's last resort: an urgent flag that reaches no counselling person through the rules,
    the counselling rota or a wellbeing lead goes here (a counselling-service mailbox or pager hook)."""

    @property
    def working_zone(self) -> ZoneInfo:
        return ZoneInfo(self.working_timezone)
