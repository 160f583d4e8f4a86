"""Demo data for `make up`, created through the services' public APIs (idempotent: safe to rerun).

After it, the demo counsellor (on call now) has an urgent alert waiting, the concerns officer a
concern, and a matching run has placed the students who asked for a mentor. Prints development
tokens for the demo users, to paste into each service's /docs."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from medsupport_shared.settings import DEVELOPMENT_JWT_SECRET
from medsupport_shared.testing import token_for

SECRET = os.environ.get("AUTH_JWT_SECRET", DEVELOPMENT_JWT_SECRET)
URLS = {
    name: f"http://127.0.0.1:{os.environ.get(f'{name.upper()}_PORT', port)}"
    for name, port in (("feedback", 8001), ("wellbeing", 8002), ("mentorship", 8003), ("notifications", 8004))
}
USERS = {
    "admin-amy": ("admin",),
    "lead-lee": ("wellbeing_lead",),
    "counsellor-ada": ("counsellor",),
    "counsellor-ben": ("counsellor",),
    "officer-omar": ("concerns_officer",),
    "faculty-fay": ("faculty",),
    "mentor-mo": ("mentor", "faculty"),
    "mentor-nia": ("mentor", "faculty"),
    "student-sam": ("student",),
    "student-kim": ("student",),
    "student-raj": ("student",),
}
"""Who they are in the demo, printed with their tokens and listed in README.md (Quick start)."""
WAIT_SECONDS = 60


def headers(user: str) -> dict[str, str]:
    claims = {"cohort": "2027"} if "student" in USERS[user] else {}
    token = token_for(user, *USERS[user], secret=SECRET, expires_in=12 * 3600, name=user, **claims)
    return {"Authorization": f"Bearer {token}"}


def step(client: httpx.Client, what: str, method: str, url: str, user: str, **kwargs: Any) -> httpx.Response:
    key = kwargs.pop("key", None)
    extra = {"Idempotency-Key": f"seed-{key}"} if key else {}
    response = client.request(method, url, headers={**headers(user), **extra}, **kwargs)
    ok = response.status_code < 300 or response.status_code == 409
    print(f"[seed] {'ok ' if ok else 'skip'} {what} ({response.status_code})", flush=True)
    return response


def wait_for(what: str, found: Callable[[], bool]) -> None:
    """Events travel through Kafka: poll until the outcome shows, with a deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if found():
            print(f"[seed] ok  {what}", flush=True)
            return
        time.sleep(0.5)
    print(f"[seed] not yet after {WAIT_SECONDS}s: {what}", flush=True)


def items(client: httpx.Client, url: str, user: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(url, headers=headers(user), params=params)
    return list(response.json().get("items", [])) if response.status_code == 200 else []


def staff_and_rota(client: httpx.Client, now: datetime) -> None:
    n = URLS["notifications"]
    for user, roles in USERS.items():
        if "student" not in roles:
            body = {"name": user, "roles": list(roles), "email": f"{user}@med.example.edu"}
            # health-data roles are granted by the wellbeing lead, any other by the admin
            writer = "lead-lee" if set(roles) <= {"counsellor", "wellbeing_lead"} else "admin-amy"
            step(client, f"staff {user}", "PUT", f"{n}/v1/staff/{user}", writer, json=body)
    shifts = [  # counsellor-ada is on call for the first 12 hours, so the urgent alert below is hers
        {
            "staff_id": ("counsellor-ada", "counsellor-ben")[i % 2],
            "start": (now + timedelta(hours=12 * i)).isoformat(),
            "end": (now + timedelta(hours=12 * (i + 1))).isoformat(),
        }
        for i in range(28)
    ]
    body = {"lead_id": "lead-lee", "shifts": shifts}
    step(client, "counselling rota (two weeks)", "PUT", f"{n}/v1/rotas/counselling", "admin-amy", json=body)
    for student in ("student-sam", "student-kim", "student-raj"):
        body = {"email": f"{student}@students.example.edu"}
        step(client, f"{student} preferences", "PUT", f"{n}/v1/me/preferences", student, json=body)


def wellbeing(client: httpx.Client) -> None:
    w = URLS["wellbeing"]
    consent = {"store_checkins": True, "share_flags_with_mentor": False}
    for student in ("student-sam", "student-kim"):
        step(client, f"{student} consent", "PUT", f"{w}/v1/me/consent", student, json=consent)
    who5 = {"instrument": "who5", "answers": [3, 3, 2, 3, 3]}
    step(client, "student-sam: a WHO-5 check-in", "POST", f"{w}/v1/checkins", "student-sam", json=who5, key="who5")
    phq9 = {"instrument": "phq9", "answers": [2, 2, 1, 2, 1, 1, 1, 0, 1]}  # item 9 > 0: urgent
    step(client, "student-kim: an urgent PHQ-9", "POST", f"{w}/v1/checkins", "student-kim", json=phq9, key="phq9")


def mentorship(client: httpx.Client) -> None:
    m = URLS["mentorship"]
    mentors = {
        "mentor-mo": {"name": "Dr Mo", "specialty": "internal medicine", "interests": ["research", "wellbeing"]},
        "mentor-nia": {"name": "Dr Nia", "specialty": "surgery", "interests": ["global health", "teaching"]},
    }
    for mentor, profile in mentors.items():
        body = {**profile, "languages": ["en"], "capacity": 4}
        step(client, f"mentor profile {mentor}", "PUT", f"{m}/v1/mentors/me", mentor, json=body)
    wishes = {
        "student-sam": {"specialty": "internal medicine", "interests": ["research"]},
        "student-kim": {"specialty": "surgery", "interests": ["teaching"]},
        "student-raj": {"specialty": "surgery", "interests": ["global health"]},
    }
    for student, wish in wishes.items():
        body = {**wish, "languages": ["en"]}
        step(client, f"{student} asks for a mentor", "PUT", f"{m}/v1/mentees/me", student, json=body)
    step(client, "matching run", "POST", f"{m}/v1/matching/runs", "admin-amy", json={}, key="matching")


def feedback_and_concern(client: httpx.Client) -> None:
    f = URLS["feedback"]
    feedback = {
        "student_id": "student-sam",
        "context": {"kind": "rotation", "id": "im-2026-block-3", "label": "Internal medicine, block 3"},
        "rating": {"scale": "entrustment", "minimum": 1, "maximum": 5, "value": 3},
        "strengths": "Clear, kind history-taking.",
        "areas_for_growth": "Prioritise the differential.",
        "next_steps": "Present two cases at the next ward round.",
    }
    step(client, "feedback for student-sam", "POST", f"{f}/v1/feedback", "faculty-fay", json=feedback, key="feedback")
    concern = {
        "category": "mistreatment",
        "description": "During the ward round a registrar shouted at me in front of patients.",
        "when": "Tuesday, morning ward round",
        "where": "Ward 7B, general surgery",
        "anonymous": False,
    }
    step(
        client,
        "a concern reported by student-raj",
        "POST",
        f"{f}/v1/concerns",
        "student-raj",
        json=concern,
        key="concern",
    )


def check_outcomes(client: httpx.Client) -> None:
    n, f, m = URLS["notifications"], URLS["feedback"], URLS["mentorship"]
    wait_for(
        "an urgent alert is waiting in counsellor-ada's inbox",
        lambda: bool(items(client, f"{n}/v1/inbox", "counsellor-ada", status="open", urgent="true")),
    )
    wait_for("officer-omar has a concern to triage", lambda: bool(items(client, f"{f}/v1/concerns", "officer-omar")))
    wait_for(
        "the matching run placed the students",
        lambda: len({a.get("mentee_id") for a in items(client, f"{m}/v1/assignments", "admin-amy")}) >= 3,
    )


def main() -> int:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with httpx.Client(timeout=10) as client:
        staff_and_rota(client, now)
        wellbeing(client)
        feedback_and_concern(client)
        mentorship(client)
        check_outcomes(client)
    print("[seed] development tokens (12 h):")
    for user in USERS:
        print(f"[seed]   {user:15} {headers(user)['Authorization']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
