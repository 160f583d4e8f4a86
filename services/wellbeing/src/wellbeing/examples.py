"""Example replies for the OpenAPI document: one fictional student's check-ins (a PHQ-9 of 11: moderate,
elevated; an earlier WHO-5 of 14) and what staff see of them. Each validates against its response model
(tests/contract/test_openapi_response_examples.py). FastAPI drops ``null`` values from examples in the
served document (fastapi/fastapi#5559), so a required field is given a value where one is realistic."""

from __future__ import annotations

from typing import Any

CHECKIN_ID = "3f9c1e2a7b8d4c6e9a0b1c2d3e4f5a6b"
FLAG_ID = "7a1d2c3b4e5f46a8b9c0d1e2f3a4b5c6"

CHECKIN_RESULT: dict[str, Any] = {
    "id": CHECKIN_ID,
    "instrument": "phq9",
    "score": 11,
    "percentage": None,
    "band": "moderate",
    "severity": "elevated",
    "reasons": ["phq9_moderate"],
    "stored": True,
    "recorded_at": "2026-11-20T17:00:00Z",
    "crisis_resources": None,
    "resources": [
        {
            "id": "3f2a9c1e",
            "name": "Counselling service: self-referral",
            "kind": "counselling",
            "needs": ["low_mood", "anxiety", "general"],
            "audiences": ["student"],
            "description": "Ask for an appointment at POST /v1/me/referrals.",
            "phone": None,
            "url": "https://wellbeing.med.example.edu/counselling",
            "hours": "Mon-Fri 09:00-17:00",
        }
    ],
}

CHECKIN_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": "6e2a9c4f1b7d4e0a8c3f5b9d2e6a1c7f",
            "student_id": "student-42",
            "instrument": "who5",
            "answers": [3, 3, 2, 3, 3],
            "score": 14,
            "percentage": 56,
            "band": "adequate_wellbeing",
            "severity": "none",
            "reasons": [],
            "note": "slept better after the exams",
            "recorded_at": "2026-11-13T08:10:00Z",
        }
    ],
    "next_cursor": "WyJkdCIsICIyMDI2LTExLTEzVDA4OjEwOjAwKzAwOjAwIiwgIjZlMmE5YzRmMWI3ZDRlMGE4YzNmNWI5ZDJlNmExYzdmIl0",
}

TREND: dict[str, Any] = {
    "instruments": {
        "phq9": [
            {"recorded_at": "2026-11-06T18:30:00Z", "score": 7, "percentage": None, "band": "mild", "severity": "none"},
            {
                "recorded_at": "2026-11-20T17:00:00Z",
                "score": 11,
                "percentage": None,
                "band": "moderate",
                "severity": "elevated",
            },
        ],
        "who5": [
            {
                "recorded_at": "2026-11-13T08:10:00Z",
                "score": 14,
                "percentage": 56,
                "band": "adequate_wellbeing",
                "severity": "none",
            }
        ],
    },
    "changes": {"phq9": 4, "who5": None},
}

FLAG: dict[str, Any] = {
    "id": FLAG_ID,
    "student_id": "student-42",
    "cohort": "2027",
    "status": "open",
    "severity": "elevated",
    "reasons": ["phq9_moderate"],
    "priority": 0,
    "instrument": "phq9",
    "raised_at": "2026-11-20T17:00:00Z",
    "updated_at": "2026-11-20T17:00:00Z",
    "resolved_at": None,
    "outcome": None,
    "checkin_ids": [CHECKIN_ID],
}

FLAG_PAGE: dict[str, Any] = {
    "items": [FLAG],
    "next_cursor": "WyJyYXciLCAiOHw5OTl8MjAyNi0xMS0yMFQxNzowMDowMC4wMDBaIiwgIjdhMWQyYzNiNGU1ZjQ2YThiOWMwZDFlMmYzYTRiNWM2Il0",
}

AUDIT_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": "0b4e8d2f6a1c4e9b8d7f3a5c2e1b9d60",
            "actor_id": "counsellor-ana",
            "actor_roles": ["counsellor"],
            "action": "read_checkins",
            "student_id": "student-42",
            "record_ids": [CHECKIN_ID],
            "purpose": "follow-up of elevated flag",
            "at": "2026-11-21T08:05:00Z",
        }
    ],
    "next_cursor": "WyJkdCIsICIyMDI2LTExLTIxVDA4OjA1OjAwKzAwOjAwIiwgIjBiNGU4ZDJmNmExYzRlOWI4ZDdmM2E1YzJlMWI5ZDYwIl0",
}

COHORT_SUMMARY: dict[str, Any] = {
    "cohort": "2027",
    "period": "month",
    "min_group_size": 5,
    "groups": [
        {
            "instrument": "gad7",
            "period": "2026-11",
            "suppressed": True,
            "students": None,
            "bands": None,
            "mean_score": None,
            "change_from_previous": None,
        },
        {
            "instrument": "who5",
            "period": "2026-10",
            "suppressed": False,
            "students": 23,
            "bands": {"adequate_wellbeing": 16, "poor_wellbeing": 7},
            "mean_score": 13.87,
            "change_from_previous": None,
        },
        {
            "instrument": "who5",
            "period": "2026-11",
            "suppressed": False,
            "students": 27,
            "bands": {"adequate_wellbeing": 18},
            "mean_score": 14.3,
            "change_from_previous": 0.43,
        },
    ],
}
