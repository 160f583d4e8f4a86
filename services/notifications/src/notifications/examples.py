"""Example replies for the OpenAPI document: the counselling rota, and the alert that an urgent flag
(PHQ-9 item 9) about a fictional student gives the on-call counsellor under the default rule
``wellbeing-urgent`` (every channel; escalation to the wellbeing lead after 15 minutes). Each validates
against its response model (tests/contract/test_openapi_response_examples.py)."""

from __future__ import annotations

from typing import Any

ALERT_ID = "e1f2a3b4c5d64e7f8a9b0c1d2e3f4a5b"

STAFF: dict[str, Any] = {
    "id": "counsellor-ana",
    "name": "Dr Ana Example",
    "roles": ["counsellor"],
    "email": "counsellor-ana@med.example.edu",
    "webhook_url": "https://hooks.example.edu/counselling",
    "quiet_hours": {"start": "22:00:00", "end": "07:00:00", "timezone": "Europe/London"},
    "channels": {"email": True, "webhook": True},
}

STAFF_PAGE: dict[str, Any] = {
    "items": [STAFF],
    "next_cursor": "WyJyYXciLCAiY291bnNlbGxvci1hbmEiLCAiY291bnNlbGxvci1hbmEiXQ",
}

ROTA: dict[str, Any] = {
    "team": "counselling",
    "lead_id": "lead-kim",
    "shifts": [
        {"staff_id": "counsellor-ana", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T20:00:00Z"},
        {"staff_id": "counsellor-ben", "start": "2026-11-25T20:00:00Z", "end": "2026-11-26T08:00:00Z"},
    ],
    "overrides": [],
    "on_call_now": "counsellor-ana",
}

ON_CALL: dict[str, Any] = {"team": "counselling", "at": "2026-11-25T09:30:00Z", "staff_id": "counsellor-ana"}

OPEN_ALERT: dict[str, Any] = {
    "id": ALERT_ID,
    "recipient_id": "counsellor-ana",
    "rule_id": "wellbeing-urgent",
    "root_id": ALERT_ID,
    "event_ids": ["8c1f5e2b9a3d4f7e6b0a1c2d3e4f5a6b"],
    "event_type": "flag.raised",
    "severity": "urgent",
    "urgent": True,
    "subject_id": "student-42",
    "reasons": ["phq9_item9_positive", "phq9_moderate"],
    "title": "Urgent wellbeing flag",
    "link": "/wellbeing/flags/4b6d8f0a2c4e4f6a8b0c2d4e6f8a0b2c",
    "status": "open",
    "escalation_level": 0,
    "next_escalation_at": "2026-11-25T09:45:00Z",
    "created_at": "2026-11-25T09:30:00Z",
    "updated_at": "2026-11-25T09:30:00Z",
    "acknowledged_at": None,
    "acknowledged_by": None,
    "deliveries": None,
}


def _delivered(channel: str) -> dict[str, Any]:
    return {
        "id": f"{ALERT_ID}:{channel}",
        "channel": channel,
        "status": "delivered",
        "attempt_count": 1,
        "attempts": [{"at": "2026-11-25T09:30:01Z", "outcome": "delivered", "error": None}],
        "delivered_at": "2026-11-25T09:30:01Z",
        "next_attempt_at": None,
        "reason": None,
    }


ACKNOWLEDGED_ALERT: dict[str, Any] = {
    **OPEN_ALERT,
    "status": "acknowledged",
    "next_escalation_at": None,
    "updated_at": "2026-11-25T09:34:00Z",
    "acknowledged_at": "2026-11-25T09:34:00Z",
    "acknowledged_by": "counsellor-ana",
    "deliveries": [
        _delivered("inapp"),
        _delivered("email"),
        {
            "id": f"{ALERT_ID}:webhook",
            "channel": "webhook",
            "status": "pending",
            "attempt_count": 1,
            "attempts": [{"at": "2026-11-25T09:30:01Z", "outcome": "failed", "error": "webhook answered 503"}],
            "delivered_at": None,
            "next_attempt_at": "2026-11-25T09:30:03Z",
            "reason": "webhook answered 503",
        },
    ],
}

ACKNOWLEDGED_ALERT["chain"] = [
    {
        "level": 0,
        "status": "acknowledged",
        "redacted": False,
        "alert_id": ALERT_ID,
        "recipient_id": "counsellor-ana",
        "channels": ["inapp", "email", "webhook"],
        "created_at": "2026-11-25T09:30:00Z",
        "acknowledged_at": "2026-11-25T09:34:00Z",
        "acknowledged_by": "counsellor-ana",
    }
]

ACKNOWLEDGEMENT_TIMES: dict[str, Any] = {
    "weeks": 1,
    "items": [
        {"week": "2026-W48", "week_start": "2026-11-23", "severity": "urgent", "alerts": 3, "acknowledged": 2,
         "unacknowledged": 1, "median_seconds": 240.0, "p90_seconds": 610.0},
        {"week": "2026-W48", "week_start": "2026-11-23", "severity": "elevated", "alerts": 0, "acknowledged": 0,
         "unacknowledged": 0, "median_seconds": None, "p90_seconds": None},
    ],
}  # fmt: skip

ALERT_PAGE: dict[str, Any] = {
    "items": [OPEN_ALERT],
    "next_cursor": "WyJkdCIsICIyMDI2LTExLTI1VDA5OjMwOjAwKzAwOjAwIiwgImUxZjJhM2I0YzVkNjRlN2Y4YTliMGMxZDJlM2Y0YTViIl0",
}

PREVIEW: dict[str, Any] = {
    "recipients": [
        {
            "person_id": "counsellor-ana",
            "name": "Dr Ana Example",
            "roles": ["counsellor"],
            "channels": ["inapp", "email", "webhook"],
            "rule_id": "wellbeing-urgent",
            "escalation": [
                {
                    "after_minutes": 15,
                    "target": {"kind": "role", "value": "wellbeing_lead"},
                    "working_days_only": False,
                },
                {"after_minutes": 30, "target": {"kind": "role", "value": "admin"}, "working_days_only": False},
            ],
        }
    ],
    "safety_floor": False,
}

ROLE_GRANT_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": "5b0c7e52-8f0e-4d4e-9a51-3c2f8f1f0a11",
            "at": "2026-11-25T09:00:00Z",
            "by": "lead-kim",
            "staff_id": "counsellor-ana",
            "granted": ["counsellor"],
            "revoked": [],
        }
    ],
    "next_cursor": None,
}

ALERT_READ_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": "0f7e3a52-6c1d-4a8e-9b1f-2d3c4e5f6a7b",
            "at": "2026-11-25T09:05:00Z",
            "reader_id": "counsellor-ana",
            "reader_roles": ["counsellor"],
            "alert_ids": ["3f2a9c0e8b7d6a5f4e3d2c1b0a998877"],
            "via": "alert",
            "purpose": "follow-up",
        }
    ],
    "next_cursor": None,
}
