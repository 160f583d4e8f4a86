"""/metrics: behind a bearer token when one is configured (required in production), no `_created` series."""

import httpx
import pytest
from cryptography.fernet import Fernet

from medsupport_shared.metrics import EVENTS_CONSUMED
from medsupport_shared.testing import auth

from .demo_service import DemoSettings, create_app

TOKEN = "metrics-token-for-the-scraper-0123"


async def _get(settings: DemoSettings, headers: dict[str, str] | None = None) -> httpx.Response:
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.get("/metrics", headers=headers or {})


async def test_metrics_need_the_bearer_token_when_it_is_set():
    settings = DemoSettings(metrics_bearer_token=TOKEN)
    assert (await _get(settings)).status_code == 401
    assert (await _get(settings, {"Authorization": "Bearer wrong"})).status_code == 401
    assert (await _get(settings, auth("admin-1", "admin", "ops"))).status_code == 401  # a user token is not it
    allowed = await _get(settings, {"Authorization": f"Bearer {TOKEN}"})
    assert allowed.status_code == 200 and "medsupport_http_requests_total" in allowed.text
    assert (await _get(DemoSettings())).status_code == 200  # development without a token: open


async def test_no_created_series_that_would_date_the_first_event_of_a_label():
    EVENTS_CONSUMED.labels("demo", "wellbeing.events.v1", "checkin.recorded", "processed").inc()
    text = (await _get(DemoSettings())).text
    assert "medsupport_events_consumed_total{" in text
    samples = [line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")]
    assert samples and not [name for name in samples if name.endswith("_created")]


def test_production_refuses_to_start_without_a_metrics_token(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("AUTH_JWT_SECRET", "a-real-secret-that-is-long-enough-123456")
    monkeypatch.setenv("AUTH_ISSUER", "https://idp.example.edu")
    monkeypatch.setenv("AUTH_AUDIENCE", "medsupport")
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("KAFKA_ALLOW_PLAINTEXT", "true")
    with pytest.raises(ValueError, match="METRICS_BEARER_TOKEN"):
        DemoSettings()
    monkeypatch.setenv("METRICS_BEARER_TOKEN", TOKEN)
    assert DemoSettings().app_env == "production"
