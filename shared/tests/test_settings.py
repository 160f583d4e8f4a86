import pytest
from pydantic import SecretStr, ValidationError

from medsupport_shared.settings import DEVELOPMENT_ENCRYPTION_KEY, DEVELOPMENT_JWT_SECRET, ServiceSettings


class WithSecret(ServiceSettings):
    service_name: str = "x"
    notes_key: SecretStr = SecretStr(DEVELOPMENT_ENCRYPTION_KEY)


def test_development_secret_refused_in_production(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(ValidationError, match="development secret"):
        ServiceSettings()


def test_production_accepts_a_real_secret_and_checks_every_secret_field(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEY"):
        ServiceSettings()
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", "a-real-fernet-key-set-by-the-institution")
    assert ServiceSettings().app_env == "production"
    with pytest.raises(ValidationError, match="NOTES_KEY"):
        WithSecret()
    monkeypatch.setenv("NOTES_KEY", "another-real-secret")
    assert WithSecret().notes_key.get_secret_value() == "another-real-secret"


def test_development_defaults_and_derived_names(monkeypatch):
    monkeypatch.setenv("KAFKA_TOPIC_PREFIX", "t1.")
    settings = WithSecret()
    assert settings.auth_jwt_secret.get_secret_value() == DEVELOPMENT_JWT_SECRET
    assert settings.database_name == "x" and settings.consumer_group == "t1.x" and settings.source == "/services/x"


def test_cors_origins_from_environment(monkeypatch):
    monkeypatch.setenv("CORS_ORIGINS", '["https://portal.example.edu"]')
    assert ServiceSettings().cors_origins == ["https://portal.example.edu"]
