"""Example replies for the OpenAPI document: a fictional student matched on demand with mentor-mo (the
profile and preferences of the request examples: specialty, one shared interest, format and background
all score), then their meetings and a peer group. Each validates against its response model
(tests/contract/test_openapi_response_examples.py)."""

from __future__ import annotations

from typing import Any

ASSIGNMENT_ID = "2c8e4a6f0b1d4c3e8a7f9b5d1e3c6a0f"
CRITERIA = {"specialty": 3.0, "interests": 1.0, "meeting_format": 1.0, "background": 2.0}

MENTOR_PROFILE: dict[str, Any] = {
    "name": "Dr Mo Haddad",
    "specialty": "internal medicine",
    "interests": ["research", "global health"],
    "languages": ["en", "ar"],
    "formats": ["video", "in-person"],
    "capacity": 4,
    "availability": "Tuesday evenings",
    "background": "first-generation student",
    "paused": False,
}

MENTOR: dict[str, Any] = {"id": "mentor-mo", **MENTOR_PROFILE, "active_mentees": 2}

MENTOR_PAGE: dict[str, Any] = {"items": [MENTOR], "next_cursor": "WyJyYXciLCAibWVudG9yLW1vIiwgIm1lbnRvci1tbyJd"}

MATCHING_RUN: dict[str, Any] = {
    "id": "b7e3c9a1d5f24e8a9c6b0d3f7e1a2c4b",
    "dry_run": False,
    "student_id": "student-42",
    "created_at": "2026-11-02T10:00:00Z",
    "matches": [
        {
            "mentee_id": "student-42",
            "mentor_id": "mentor-mo",
            "score": 7.0,
            "criteria": CRITERIA,
            "assignment_id": ASSIGNMENT_ID,
        }
    ],
    "unmatched": [],
    "total_score": 7.0,
}

ASSIGNMENT: dict[str, Any] = {
    "id": ASSIGNMENT_ID,
    "mentor_id": "mentor-mo",
    "mentee_id": "student-42",
    "status": "active",
    "how": "matching",
    "score": 7.0,
    "criteria": CRITERIA,
    "assigned_at": "2026-11-02T10:00:00Z",
    "last_meeting_at": "2026-11-20T17:00:00Z",
    "ended_at": None,
    "ended_by": None,
    "end_reason": None,
}

ASSIGNMENT_PAGE: dict[str, Any] = {
    "items": [ASSIGNMENT],
    "next_cursor": "WyJkdCIsICIyMDI2LTExLTAyVDEwOjAwOjAwKzAwOjAwIiwgIjJjOGU0YTZmMGIxZDRjM2U4YTdmOWI1ZDFlM2M2YTBmIl0",
}

MEETING: dict[str, Any] = {
    "id": "c4e6a8b0d2f44a1c9e3b5d7f9a1c3e5b",
    "assignment_id": ASSIGNMENT_ID,
    "met_at": "2026-11-20T17:00:00Z",
    "format": "video",
    "logged_by": "mentor-mo",
    "my_notes": "talked about research electives",
}

MEETING_PAGE: dict[str, Any] = {
    "items": [MEETING],
    "next_cursor": "WyJkdCIsICIyMDI2LTExLTIwVDE3OjAwOjAwKzAwOjAwIiwgImM0ZTZhOGIwZDJmNDRhMWM5ZTNiNWQ3ZjlhMWMzZTViIl0",
}

PEER_GROUP: dict[str, Any] = {
    "id": "5d8f2a4c6e0b4d1fa3c5e7092b4d6f81",
    "name": "Year-2 study and support circle",
    "cohort": "2027",
    "interests": ["exam prep", "wellbeing"],
    "size_limit": 8,
    "facilitator_id": "mentor-mo",
    "members": ["student-42", "student-57"],
    "seats_free": 6,
}

PEER_GROUP_PAGE: dict[str, Any] = {
    "items": [PEER_GROUP],
    "next_cursor": "WyJkdCIsICIyMDI2LTEwLTAxVDEyOjAwOjAwKzAwOjAwIiwgIjVkOGYyYTRjNmUwYjRkMWZhM2M1ZTcwOTJiNGQ2ZjgxIl0",
}
