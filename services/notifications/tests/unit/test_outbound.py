"""What e-mail and webhooks carry (pure), and the SMTP transport rules in production."""

from datetime import UTC, datetime

import pytest

from notifications.channels import alert_payload, alert_url
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
    payload = alert_payload(ALERT, delivery_id="a1:webhook", url="https://c.example/alerts/a1", include_reasons=False)
    assert payload["severity"] == "urgent" and payload["url"] == "https://c.example/alerts/a1"
    assert "reasons" not in payload and "subject_id" not in payload
    assert "s1" not in str(payload) and "phq9" not in str(payload)


def test_a_channel_may_be_set_to_include_the_reasons_and_the_subject():
    payload = alert_payload(ALERT, delivery_id="a1:webhook", url="https://c.example/alerts/a1", include_reasons=True)
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


def test_staff_are_sent_to_the_console_alert_page_and_students_to_the_student_frontend():
    settings = NotificationsSettings(console_base_url="https://console.example/", public_base_url="https://me.example")
    staff = {"_id": "c1", "kind": "staff"}
    assert alert_url({**ALERT, "recipient_id": "c1"}, staff, settings) == "https://console.example/alerts/a1"
    assert alert_url({**ALERT, "recipient_id": "m1"}, None, settings) == "https://console.example/alerts/a1"
    feedback = {**ALERT, "link": "/feedback/fb-1", "recipient_id": "s1", "subject_id": "s1"}
    assert alert_url(feedback, {"_id": "s1", "kind": "student"}, settings) == "https://me.example/feedback/fb-1"
    assert alert_url(feedback, None, settings) == "https://me.example/feedback/fb-1"


def test_the_console_base_url_defaults_to_make_ups_console():
    assert NotificationsSettings(_env_file=None).console_base_url == "http://127.0.0.1:8080"
