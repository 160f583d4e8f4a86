"""Demo data for `make up`, created through the services' public APIs (idempotent: safe to rerun).

Prints development tokens for a few demo users, to paste into each service's /docs."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta

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
    "student-sam": ("student",),
}


def headers(user: str) -> dict[str, str]:
    claims = {"cohort": "2027"} if "student" in USERS[user] else {}
    token = token_for(user, *USERS[user], secret=SECRET, expires_in=12 * 3600, name=user, **claims)
    return {"Authorization": f"Bearer {token}"}


def step(client: httpx.Client, what: str, method: str, url: str, user: str, **kwargs: object) -> None:
    response = client.request(method, url, headers={**headers(user), **kwargs.pop("extra_headers", {})}, **kwargs)  # type: ignore[arg-type]
    ok = response.status_code < 300 or response.status_code == 409
    print(f"[seed] {'ok ' if ok else 'skip'} {what} ({response.status_code})")


def main() -> int:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with httpx.Client(timeout=10) as client:
        n = URLS["notifications"]
        for user, roles in USERS.items():
            if "student" not in roles:
                step(
                    client,
                    f"staff {user}",
                    "PUT",
                    f"{n}/v1/staff/{user}",
                    "admin-amy",
                    json={"name": user, "roles": list(roles), "email": f"{user}@med.example.edu"},
                )
        shifts = [
            {
                "staff_id": ("counsellor-ada", "counsellor-ben")[i % 2],
                "start": (now + timedelta(hours=12 * i)).isoformat(),
                "end": (now + timedelta(hours=12 * (i + 1))).isoformat(),
            }
            for i in range(28)
        ]
        step(
            client,
            "counselling rota (two weeks)",
            "PUT",
            f"{n}/v1/rotas/counselling",
            "admin-amy",
            json={"lead_id": "lead-lee", "shifts": shifts},
        )
        step(
            client,
            "student preferences",
            "PUT",
            f"{n}/v1/me/preferences",
            "student-sam",
            json={"email": "student-sam@students.example.edu"},
        )
        w = URLS["wellbeing"]
        step(
            client,
            "student consent",
            "PUT",
            f"{w}/v1/me/consent",
            "student-sam",
            json={"store_checkins": True, "share_flags_with_mentor": False},
        )
        step(
            client,
            "a first WHO-5 check-in",
            "POST",
            f"{w}/v1/checkins",
            "student-sam",
            json={"instrument": "who5", "answers": [3, 3, 2, 3, 3]},
            extra_headers={"Idempotency-Key": "seed-who5"},
        )
        m = URLS["mentorship"]
        step(
            client,
            "mentor profile",
            "PUT",
            f"{m}/v1/mentors/me",
            "mentor-mo",
            json={
                "name": "Dr Mo",
                "specialty": "internal medicine",
                "interests": ["research", "wellbeing"],
                "languages": ["en"],
                "capacity": 4,
            },
        )
        f = URLS["feedback"]
        step(
            client,
            "feedback for the student",
            "POST",
            f"{f}/v1/feedback",
            "faculty-fay",
            json={
                "student_id": "student-sam",
                "context": {"kind": "rotation", "id": "im-2026-block-3", "label": "Internal medicine, block 3"},
                "rating": {"scale": "entrustment", "minimum": 1, "maximum": 5, "value": 3},
                "strengths": "Clear, kind history-taking.",
                "areas_for_growth": "Prioritise the differential.",
                "next_steps": "Present two cases at the next ward round.",
            },
            extra_headers={"Idempotency-Key": "seed-feedback"},
        )
    print("[seed] development tokens (12 h):")
    for user in ("student-sam", "counsellor-ada", "lead-lee", "admin-amy"):
        print(f"[seed]   {user:15} {headers(user)['Authorization']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
