"""What e-mail and webhooks carry (pure), and the SMTP transport rules in production."""

from datetime import UTC, datetime

import pytest

from notifications.channels import alert_payload
from notifications.settings import NotificationsSettings

ALERT = {
    "_id": "a1",
    "event_type": "flag.raised",
    "severity": "urgent",
    "title": "Urgent wellbeing flag",
    "link": "/alerts/a1",
    "reasons": ["phq9_item9_positive"],
    "subject_id": "s1",
    "created_at": datetime(2026, 11, 25, 9, 30, tzinfo=UTC),
}


def test_outbound_alerts_carry_a_link_and_a_severity_but_no_reasons_and_no_subject_by_default():
    payload = alert_payload(ALERT, delivery_id="a1:webhook", base_url="https://c.example", include_reasons=False)
    assert payload["severity"] == "urgent" and payload["url"] == "https://c.example/alerts/a1"
    assert "reasons" not in payload and "subject_id" not in payload
    assert "s1" not in str(payload) and "phq9" not in str(payload)


def test_a_channel_may_be_set_to_include_the_reasons_and_the_subject():
    payload = alert_payload(ALERT, delivery_id="a1:webhook", base_url="https://c.example", include_reasons=True)
    assert payload["reasons"] == ["phq9_item9_positive"] and payload["subject_id"] == "s1"


def test_by_default_outbound_details_are_off_and_starttls_is_on():
    settings = NotificationsSettings(_env_file=None)
    assert settings.smtp_starttls and settings.smtp_tls == "starttls"
    assert not settings.email_include_reasons and not settings.webhook_include_reasons


def test_production_refuses_smtp_in_clear_unless_tls_is_implicit():
    # built without validation, so that only this rule is checked (production also refuses development secrets)
    clear = NotificationsSettings.model_construct(app_env="production", smtp_starttls=False, smtp_tls="starttls")
    with pytest.raises(ValueError, match="SMTP_STARTTLS=false"):
        clear._require_smtp_tls_in_production()
    implicit = NotificationsSettings.model_construct(app_env="production", smtp_starttls=False, smtp_tls="implicit")
    assert implicit._require_smtp_tls_in_production() is implicit
    development = NotificationsSettings(app_env="development", smtp_starttls=False)
    assert not development.smtp_starttls
