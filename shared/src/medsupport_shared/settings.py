"""Settings every service reads from its environment, validated at start-up (fail fast)."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from medsupport_shared.crypto import derived_secret, key_list_problems
from medsupport_shared.event_types import service_source
from medsupport_shared.kafka_security import KafkaSecurity, SaslMechanism, SecurityProtocol

DEVELOPMENT_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
"""The documented development secret: a service refuses to start with it in production."""

DEVELOPMENT_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"
DEVELOPMENT_ENCRYPTION_KEY = "ZGV2LW9ubHktaW5zZWN1cmUtZW5jcnlwdGlvbi1rZXk="
DEVELOPMENT_MARKER = "dev-only-insecure"
"""Every published development secret contains it (the encryption key once base64-decoded)."""


def is_development_value(secret: str) -> bool:
    """True when ``secret``, or any entry of a comma-separated key list, is a published development value."""
    for part in (p.strip() for p in secret.split(",")):
        if not part:
            continue
        if DEVELOPMENT_MARKER in part or DEVELOPMENT_MARKER in _base64_text(part):
            return True
    return False


def _base64_text(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii", errors="ignore")
    except (ValueError, TypeError):
        return ""


class ServiceSettings(BaseSettings):
    """Base settings; each service subclasses it, sets ``service_name`` and adds its own fields."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "service"
    app_env: Literal["development", "production"] = "production"
    """``development`` (set by ``make up`` and the tests) is the only mode that accepts the published
    development secrets; anything deployed runs as ``production``, which refuses them."""
    log_level: str = "INFO"

    mongo_url: str = "mongodb://127.0.0.1:27017"
    mongo_db: str = ""
    """Database name; empty means the service's own name."""

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic_prefix: str = ""
    """Prepended to every topic name (isolates test runs or tenants on a shared cluster)."""
    kafka_consumer_group: str = ""
    """Consumer group id; empty means ``<service_name>``."""
    kafka_security_protocol: SecurityProtocol = "PLAINTEXT"
    """``SASL_SSL`` in production; ``PLAINTEXT``/``SASL_PLAINTEXT`` there only with KAFKA_ALLOW_PLAINTEXT."""
    kafka_sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_ssl_cafile: str | None = None
    kafka_ssl_certfile: str | None = None
    kafka_ssl_keyfile: str | None = None
    kafka_allow_plaintext: bool = False
    """Lets production talk to Kafka without TLS (e.g. compose, where the broker is on the same host)."""
    kafka_topic_retention_hours: float = Field(default=168, gt=0, le=24 * 90)
    """Records (and their dead-letter copies) are deleted after this; set on the topics this service creates.
    Longer than any consumer outage you plan for (a consumer that is away longer loses events)."""
    kafka_max_retries: int = Field(default=3, ge=0, le=20)
    kafka_retry_backoff_seconds: float = Field(default=0.2, ge=0)

    outbox_relay_interval_seconds: float = Field(default=2.0, gt=0)
    outbox_grace_seconds: float = Field(default=5.0, ge=0)
    """The relay leaves events younger than this to the in-process publisher."""

    auth_jwt_secret: SecretStr = SecretStr(DEVELOPMENT_JWT_SECRET)
    auth_jwks_url: str | None = None
    auth_issuer: str | None = None
    auth_audience: str | None = None
    """``iss``/``aud`` a token must carry; required in production and whenever AUTH_JWKS_URL is set (an identity
    provider also issues tokens for other applications)."""
    auth_max_token_lifetime_seconds: int = Field(default=12 * 3600, ge=60)
    """A token whose ``exp`` is further than this after its (required) ``iat`` is refused."""
    auth_jwks_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    """A slow identity provider must not hold every request: key fetches give up after this."""

    metrics_bearer_token: SecretStr | None = None
    """When set, ``GET /metrics`` needs ``Authorization: Bearer <it>`` (required in production: the counters
    move in real time with health events)."""

    max_request_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """Larger request bodies are answered 413 before parsing or authentication."""

    cors_origins: list[str] = Field(default_factory=lambda: ["http://localhost:3000"])

    data_encryption_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)
    """Fernet key(s) for data the shared library keeps at rest (idempotent replies); comma-separated."""

    idempotency_hmac_key: SecretStr | None = None
    """Keys the digests of idempotency records (owner, request body); empty: derived from DATA_ENCRYPTION_KEY's
    first key (rotating that key then starts new digests: a retry across the rotation is a new request)."""

    @property
    def kafka_security(self) -> KafkaSecurity:
        return KafkaSecurity(
            protocol=self.kafka_security_protocol,
            sasl_mechanism=self.kafka_sasl_mechanism,
            username=self.kafka_sasl_username,
            password=self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None,
            cafile=self.kafka_ssl_cafile,
            certfile=self.kafka_ssl_certfile,
            keyfile=self.kafka_ssl_keyfile,
        )

    @property
    def idempotency_secret(self) -> bytes:
        if self.idempotency_hmac_key is not None:
            return self.idempotency_hmac_key.get_secret_value().encode()
        return derived_secret(self.data_encryption_key, "idempotency/v1")

    @property
    def database_name(self) -> str:
        return self.mongo_db or self.service_name

    @property
    def consumer_group(self) -> str:
        return self.kafka_consumer_group or f"{self.kafka_topic_prefix}{self.service_name}"

    @property
    def source(self) -> str:
        """CloudEvents ``source`` of this service's events."""
        return service_source(self.service_name)

    def development_secrets_in_use(self) -> list[str]:
        """Names (as environment variables) of the secrets that hold a published development value."""
        return sorted(
            name.upper()
            for name, value in self.__dict__.items()
            if isinstance(value, SecretStr)
            and is_development_value(value.get_secret_value())
            and not (name == "auth_jwt_secret" and self.auth_jwks_url is not None)
        )

    @model_validator(mode="after")
    def _refuse_development_secrets_in_production(self) -> ServiceSettings:
        if self.kafka_security.uses_sasl and not (self.kafka_sasl_username and self.kafka_sasl_password):
            raise ValueError("a SASL KAFKA_SECURITY_PROTOCOL needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
        if self.auth_jwks_url is not None and not (self.auth_issuer and self.auth_audience):
            raise ValueError("AUTH_JWKS_URL needs AUTH_ISSUER and AUTH_AUDIENCE (the provider serves other apps too)")
        if self.app_env != "production":
            return self
        problems = self.production_problems()
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    def production_problems(self) -> list[str]:
        """What keeps these settings from being safe in production (empty when they are)."""
        problems = [f"{name} is a published development value" for name in self.development_secrets_in_use()]
        for name, value in self.__dict__.items():
            if name.endswith("encryption_key") and isinstance(value, SecretStr):
                problems += [f"{name.upper()} {p}" for p in key_list_problems(value.get_secret_value())]
        if self.auth_jwks_url is None and len(self.auth_jwt_secret.get_secret_value()) < 32:
            problems.append("AUTH_JWT_SECRET must be at least 32 characters (or set AUTH_JWKS_URL)")
        if not (self.auth_issuer and self.auth_audience):
            problems.append("AUTH_ISSUER and AUTH_AUDIENCE must be set")
        if not self.kafka_security.uses_tls and not self.kafka_allow_plaintext:
            problems.append(
                f"KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} sends events unencrypted: use SASL_SSL "
                "(or set KAFKA_ALLOW_PLAINTEXT=true where the network is private)"
            )
        if self.metrics_bearer_token is None or len(self.metrics_bearer_token.get_secret_value()) < 16:
            problems.append("METRICS_BEARER_TOKEN must be set (at least 16 characters)")
        return problems
