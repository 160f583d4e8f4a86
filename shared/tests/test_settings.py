import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_JWT_SECRET, ServiceSettings

REAL_KEY = Fernet.generate_key().decode()


class WithSecret(ServiceSettings):
    service_name: str = "x"
    notes_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)


def test_development_secret_refused_in_production(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ValidationError, match="development value"):
        ServiceSettings()


def production_settings(monkeypatch):
    """What a real deployment sets besides its secrets."""
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_ISSUER", "https://idp.example.edu")
    monkeypatch.setenv("AUTH_AUDIENCE", "medsupport")
    monkeypatch.setenv("METRICS_BEARER_TOKEN", "metrics-token-for-the-scraper-0123")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "x")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "kafka-password-of-x")


def test_production_accepts_a_real_secret_and_checks_every_secret_field(monkeypatch):
    production_settings(monkeypatch)
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEY"):
        ServiceSettings()
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", REAL_KEY)
    assert ServiceSettings().app_env == "production"
    with pytest.raises(ValidationError, match="NOTES_KEY"):
        WithSecret()
    monkeypatch.setenv("NOTES_KEY", "another-real-secret")
    assert WithSecret().notes_key.get_secret_value() == "another-real-secret"


def test_production_is_the_default_and_refuses_the_development_secrets(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    with pytest.raises(ValidationError, match="AUTH_JWT_SECRET is a published development value"):
        ServiceSettings()


def test_any_development_key_in_a_list_or_a_service_secret_is_refused_in_production(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", f" {DEVELOPMENT_ENCRYPTION_KEY}")
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEY"):
        ServiceSettings()
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", f"{REAL_KEY},{DEVELOPMENT_ENCRYPTION_KEY}")
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEY"):
        ServiceSettings()


def test_development_mode_names_the_development_secrets_it_runs_with(monkeypatch, caplog):
    from medsupport_shared.app_factory import warn_about_development_secrets

    monkeypatch.setenv("APP_ENV", "development")
    settings = WithSecret()
    with caplog.at_level("WARNING", logger="medsupport.security"):
        names = warn_about_development_secrets(settings)
    assert names == ["AUTH_JWT_SECRET", "DATA_ENCRYPTION_KEY", "NOTES_KEY"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 3 and all("DEVELOPMENT SECRET IN USE" in r.getMessage() for r in warnings)


def test_development_defaults_and_derived_names(monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "t1.")
    settings = WithSecret()
    assert settings.auth_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
    assert settings.database_name == "x" and settings.consumer_group == "t1.x" and settings.source == "/services/x"


def test_cors_origins_from_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", '["https://portal.example.edu"]')
    assert ServiceSettings().cors_origins == ["https://portal.example.edu"]


def test_production_refuses_an_unencrypted_kafka_unless_explicitly_allowed(monkeypatch):
    production_settings(monkeypatch)
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", REAL_KEY)
    assert ServiceSettings().kafka_security.client_options()["sasl_mechanism"] == "SCRAM-SHA-512"
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT")
    with pytest.raises(ValidationError, match="KAFKA_SECURITY_PROTOCOL=PLAINTEXT"):
        ServiceSettings()
    monkeypatch.setenv("KAFKA_ALLOW_PLAINTEXT", "true")
    assert ServiceSettings().kafka_security.client_options() == {"security_protocol": "PLAINTEXT"}


def test_sasl_needs_a_username_and_password(monkeypatch):
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    with pytest.raises(ValidationError, match="KAFKA_SASL_USERNAME"):
        ServiceSettings()


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ("not-a-key", "entry 1 is not a url-safe base64 32-byte Fernet key"),
        ("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "entry 1 has too little entropy"),  # 32 zero bytes
        (f"{REAL_KEY},bm90LXRoZS1kZXYta2V5LW5vdC10aGUtZGV2LWtleSE=", "entry 2 has too little entropy"),  # a phrase
    ],
)
def test_production_refuses_malformed_and_low_entropy_keys(monkeypatch, keys, problem):
    production_settings(monkeypatch)
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", keys)
    with pytest.raises(ValidationError, match=f"DATA_ENCRYPTION_KEY {problem}"):
        ServiceSettings()
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", f"{REAL_KEY},{Fernet.generate_key().decode()}")
    assert ServiceSettings().app_env == "production"
