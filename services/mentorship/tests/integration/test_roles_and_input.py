"""Who may do what (401/403/404), what each side sees, bad input (422, nothing stored), Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth
from mentorship import api_profiles

from .conftest import ADMIN, PROFILE, Stack

pytestmark = pytest.mark.integration

ROUTES = [
    ("get", "/v1/mentors", None),
    ("get", "/v1/mentors/me", None),
    ("get", "/v1/mentors/m1", None),
    ("put", "/v1/mentors/me", PROFILE),
    ("put", "/v1/mentors/m1", PROFILE),
    ("get", "/v1/mentees/me", None),
    ("put", "/v1/mentees/me", {"languages": ["en"]}),
    ("post", "/v1/matching/runs", {}),
    ("post", "/v1/matching/me", None),
    ("post", "/v1/assignments", {"mentor_id": "m1", "mentee_id": "s1"}),
    ("get", "/v1/assignments", None),
    ("get", "/v1/assignments/a1", None),
    ("post", "/v1/assignments/a1/end", {}),
    ("post", "/v1/assignments/a1/meetings", {"met_at": "2026-11-20T17:00:00Z", "format": "video"}),
    ("get", "/v1/assignments/a1/meetings", None),
    ("post", "/v1/peer-groups", {"name": "Circle", "size_limit": 4}),
    ("get", "/v1/peer-groups", None),
    ("post", "/v1/peer-groups/g1/join", None),
    ("post", "/v1/peer-groups/g1/leave", None),
    ("post", "/v1/peer-groups/matching", {"cohort": "2027", "student_ids": ["s1"]}),
    ("put", "/v1/peer-groups/placement/me", {"open_to_placement": True}),
]


async def call(stack: Stack, method: str, path: str, body: object, headers: dict[str, str]) -> object:
    kwargs: dict[str, object] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    return await getattr(stack.client, method)(path, **kwargs)


async def test_every_business_route_needs_a_valid_token(stack: Stack) -> None:
    expired = auth("x", "admin", expires_in=-60)
    other_secret = auth("x", "admin", secret="another-secret-" * 3)
    for method, path, body in ROUTES:
        for headers in ({}, {"Authorization": "Bearer not-a-jwt"}, other_secret, expired):
            response = await call(stack, method, path, body, headers)
            assert response.status_code == 401, (path, headers, response.text)  # type: ignore[attr-defined]
            assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]


FORBIDDEN = [
    ("get", "/v1/mentors/me", None, ("student", "admin", "faculty")),
    ("put", "/v1/mentors/me", PROFILE, ("student", "admin", "faculty")),
    ("put", "/v1/mentors/m1", PROFILE, ("mentor", "student", "ops")),
    ("get", "/v1/mentees/me", None, ("mentor", "admin", "counsellor")),
    ("put", "/v1/mentees/me", {"languages": ["en"]}, ("mentor", "admin", "wellbeing_lead")),
    ("post", "/v1/matching/runs", {}, ("student", "mentor", "faculty", "counsellor", "wellbeing_lead", "ops")),
    ("post", "/v1/matching/me", None, ("mentor", "admin")),
    ("post", "/v1/assignments", {"mentor_id": "m1", "mentee_id": "s1"}, ("student", "mentor", "counsellor")),
    ("post", "/v1/peer-groups", {"name": "Circle", "size_limit": 4}, ("ops", "concerns_officer")),
    ("post", "/v1/peer-groups/g1/join", None, ("faculty", "mentor", "admin")),
    ("post", "/v1/peer-groups/matching", {"cohort": "2027", "student_ids": ["s1"]}, ("student", "ops")),
    ("put", "/v1/peer-groups/placement/me", {"open_to_placement": True}, ("faculty", "admin", "mentor")),
]


async def test_role_matrix(stack: Stack) -> None:
    for method, path, body, roles in FORBIDDEN:
        for role in roles:
            response = await call(stack, method, path, body, auth("someone", role))
            assert response.status_code == 403, (path, role, response.text)  # type: ignore[attr-defined]
            assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert await stack.ctx.repo.mentors.count_documents({}) == 0
    assert await stack.ctx.repo.mentees.count_documents({}) == 0
    assert await stack.ctx.repo.groups.count_documents({}) == 0
    assert await stack.ctx.repo.runs.count_documents({}) == 0


async def test_each_side_sees_only_their_own_assignments(stack: Stack) -> None:
    await stack.mentor("m1", capacity=2, background="first-generation")
    await stack.mentor("m2", capacity=2)
    a1 = (await stack.assign("m1", "s1")).json()["id"]
    a2 = (await stack.assign("m2", "s2")).json()["id"]

    async def ids(sub: str, *roles: str) -> set[str]:
        page = (await stack.client.get("/v1/assignments", headers=auth(sub, *roles))).json()
        return {a["id"] for a in page["items"]}

    assert await ids("s1", "student") == {a1}
    assert await ids("m2", "mentor") == {a2}
    assert await ids("admin-1", "admin") == {a1, a2}
    assert await ids("f1", "faculty") == set()
    for sub, role in (("s2", "student"), ("m2", "mentor"), ("c1", "counsellor")):
        for path in (f"/v1/assignments/{a1}", f"/v1/assignments/{a1}/meetings"):
            assert (await stack.client.get(path, headers=auth(sub, role))).status_code == 404
        ended = await stack.client.post(f"/v1/assignments/{a1}/end", json={}, headers=auth(sub, role))
        assert ended.status_code == 404
    assert (await stack.client.get(f"/v1/assignments/{a1}", headers=auth("m1", "mentor"))).status_code == 200
    # a mentor's self-described background is shown to that mentor and admins only
    as_student = (await stack.client.get("/v1/mentors/m1", headers=auth("s1", "student"))).json()
    as_admin = (await stack.client.get("/v1/mentors/m1", headers=ADMIN)).json()
    as_self = (await stack.client.get("/v1/mentors", headers=auth("m1", "mentor"))).json()["items"]
    assert as_student["background"] is None and as_admin["background"] == "first-generation"
    assert next(m for m in as_self if m["id"] == "m1")["background"] == "first-generation"
    # a mentor edits their own profile only; an admin may edit any
    assert (await stack.client.put("/v1/mentors/m1", json=PROFILE, headers=auth("m2", "mentor"))).status_code == 403
    edited = await stack.client.put("/v1/mentors/m1", json={**PROFILE, "capacity": 4}, headers=ADMIN)
    assert edited.status_code == 200 and edited.json()["capacity"] == 4


BAD = [
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "capacity": -1}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "capacity": "many"}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "interests": ["x"] * 21}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "specialty": "s" * 101}),
    ("put", "/v1/mentees/me", "student", {"languages": []}),
    ("put", "/v1/mentees/me", "student", {"languages": ["en"], "meeting_format": "telepathy"}),
    ("put", "/v1/mentees/me", "student", {"languages": ["en"], "avoid": "m1"}),
    ("put", "/v1/mentees/me", "student", {"interests": ["x"]}),
    ("post", "/v1/assignments", "admin", {"mentor_id": "", "mentee_id": "s1"}),
    ("post", "/v1/assignments", "admin", {"mentor_id": "m1"}),
    ("post", "/v1/assignments", "admin", ["m1", "s1"]),
    ("post", "/v1/matching/runs", "admin", {"dry_run": "perhaps"}),
    ("post", "/v1/peer-groups", "faculty", {"name": "Circle", "size_limit": 1}),
    ("post", "/v1/peer-groups", "faculty", {"name": "", "size_limit": 4}),
    ("post", "/v1/peer-groups", "student", {"name": "Circle", "size_limit": 51}),
    ("post", "/v1/peer-groups/matching", "faculty", {"cohort": "2027", "student_ids": []}),
    # wrong types are not coerced, unknown fields are not dropped, list entries are bounded
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "capacity": "3"}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "paused": "no"}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "nickname": "Mo"}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "languages": [""]}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "languages": ["english please"]}),
    ("put", "/v1/mentors/me", "mentor", {**PROFILE, "interests": ["i" * 101]}),
    ("put", "/v1/mentees/me", "student", {"languages": ["en"], "wants_shared_background": "true"}),
    ("put", "/v1/mentees/me", "student", {"languages": ["en"], "avoid": [" "]}),
    ("put", "/v1/mentees/me", "student", {"languages": ["en"], "favourite_colour": "teal"}),
    ("post", "/v1/assignments", "admin", {"mentor_id": "m1", "mentee_id": "s1", "how": "matching"}),
    ("post", "/v1/matching/runs", "admin", {"dry_run": "yes"}),
    ("post", "/v1/matching/runs", "admin", {"dry_run": True, "everyone": True}),
    ("post", "/v1/peer-groups", "faculty", {"name": "Circle", "size_limit": "3"}),
    ("post", "/v1/peer-groups", "faculty", {"name": "Circle", "size_limit": 4, "private": True}),
]


async def test_bad_input_gets_422_with_errors_stores_nothing_emits_nothing(stack: Stack) -> None:
    repo = stack.ctx.repo
    stored = (repo.mentors, repo.mentees, repo.assignments, repo.slots, repo.groups, repo.members, repo.runs)
    for method, path, role, body in BAD:
        response = await call(stack, method, path, body, auth("caller", role))
        assert response.status_code == 422, (path, body, response.text)  # type: ignore[attr-defined]
        assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
        problem = response.json()  # type: ignore[attr-defined]
        assert problem["status"] == 422 and problem["errors"]
        assert all("loc" in e and "msg" in e for e in problem["errors"])
        for collection in stored:
            assert await collection.count_documents({}) == 0, (path, body)
    malformed = await stack.client.post(
        "/v1/assignments", content=b"{not json", headers={**ADMIN, "content-type": "application/json"}
    )
    assert malformed.status_code == 422 and malformed.headers["content-type"] == "application/problem+json"
    too_long_key = await stack.client.post(
        "/v1/peer-groups", json={"name": "Circle", "size_limit": 4}, headers={**ADMIN, "Idempotency-Key": "k" * 201}
    )
    assert too_long_key.status_code == 422
    for collection in (*stored, stack.app.state.runtime.db["idempotency_keys"]):
        assert await collection.count_documents({}) == 0, collection.name
    # a valid assignment afterwards is the first and only event on the topic: nothing was emitted before it
    await stack.mentor("m-ok")
    ok = await stack.assign("m-ok", "s-ok")
    assert ok.status_code == 201
    await stack.reader.wait_for(lambda e: e.data.get("assignment_id") == ok.json()["id"])
    assert [(e.type, e.data["assignment_id"]) for e in stack.reader.events] == [("mentor.assigned", ok.json()["id"])]


async def test_bad_meeting_input_and_bad_list_parameters(stack: Stack) -> None:
    await stack.mentor("m1")
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    path = f"/v1/assignments/{assignment_id}/meetings"
    for body in (
        {"met_at": "yesterday", "format": "video"},
        {"met_at": "2026-11-20T17:00:00", "format": "video"},  # no offset: ambiguous
        {"met_at": 1700000000, "format": "video"},  # epoch seconds are not RFC 3339
        {"met_at": (utcnow() + timedelta(hours=1)).isoformat(), "format": "video"},  # not happened yet
        {"met_at": "2099-11-22T10:00:00Z", "format": "video"},
        {"met_at": "2026-11-20T17:00:00Z", "format": "video", "agenda": "electives"},
        {"met_at": "2026-11-20T17:00:00Z", "format": "carrier pigeon"},
        {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": "n" * 4001},
        {"format": "video"},
    ):
        response = await stack.client.post(path, json=body, headers=auth("m1", "mentor"))
        assert response.status_code == 422, body
        assert response.headers["content-type"] == "application/problem+json" and response.json()["errors"]
        assert "n" * 100 not in response.text  # the rejected notes are not echoed
    assert await stack.ctx.repo.meetings.count_documents({}) == 0
    stored = await stack.ctx.repo.assignment(assignment_id=assignment_id)
    assert stored is not None and stored.last_meeting_at is None
    for query in ("limit=0", "limit=201", "limit=ten"):
        for route in ("/v1/assignments", "/v1/mentors", "/v1/peer-groups", path):
            assert (await stack.client.get(f"{route}?{query}", headers=ADMIN)).status_code == 422, (route, query)
    for route in ("/v1/assignments", "/v1/mentors", "/v1/peer-groups", path):
        bad_cursor = await stack.client.get(f"{route}?cursor=%25%25%25", headers=ADMIN)
        assert bad_cursor.status_code == 400 and bad_cursor.headers["content-type"] == "application/problem+json"
    for status in ("bogus", "ACTIVE", ""):
        refused = await stack.client.get("/v1/assignments", params={"status": status}, headers=ADMIN)
        assert refused.status_code == 422, status
        assert refused.headers["content-type"] == "application/problem+json" and refused.json()["errors"]
    for status, expected in (("active", [assignment_id]), ("ended", [])):
        listed = await stack.client.get("/v1/assignments", params={"status": status}, headers=ADMIN)
        assert [a["id"] for a in listed.json()["items"]] == expected
    # a valid meeting afterwards is the only meeting.logged on the topic: the refused ones emitted nothing
    ok = await stack.client.post(path, json={"met_at": "2026-11-20T17:00:00Z", "format": "video"}, headers=ADMIN)
    assert ok.status_code == 403  # an admin sees the assignment but does not log its meetings
    ok = await stack.client.post(
        path, json={"met_at": "2026-11-20T19:00:00+02:00", "format": "video"}, headers=auth("m1", "mentor")
    )
    assert ok.status_code == 201
    await stack.reader.wait_for(lambda e: e.type == "meeting.logged")
    assert [e.data["meeting_id"] for e in stack.events("meeting.logged")] == [ok.json()["id"]]
    # a time with an offset is the same instant in UTC, alike in the reply, the event and a later read
    (logged,) = stack.events("meeting.logged")
    listed = (await stack.client.get(path, headers=auth("m1", "mentor"))).json()["items"]
    for seen in (ok.json()["met_at"], logged.data["met_at"], listed[0]["met_at"]):
        assert seen.endswith("Z") and datetime.fromisoformat(seen) == datetime(2026, 11, 20, 17, tzinfo=UTC), seen


async def test_a_manual_assignment_keeps_the_hard_constraints(stack: Stack) -> None:
    await stack.mentor("m-fr", capacity=2, languages=["FR"])  # tags are compared in lower case
    await stack.mentor("m-paused", capacity=2, paused=True)
    await stack.wants("s-en", languages=["en"])
    await stack.wants("s-avoids", languages=["fr"], avoid=["m-fr"])
    for mentor, student, reason in (
        ("m-fr", "s-en", "share no language"),
        ("m-fr", "s-avoids", "asked not to be matched"),
        ("m-paused", "s-en", "paused"),
    ):
        refused = await stack.assign(mentor, student)
        assert refused.status_code == 409 and reason in refused.json()["detail"], refused.text
    assert await stack.active() == [] and await stack.ctx.repo.slots.count_documents({}) == 0
    await stack.wants("s-fr", languages=["fr-CA", "Fr"])
    assert (await stack.assign("m-fr", "s-fr")).status_code == 201
    assert (await stack.assign("m-fr", "s-unknown")).status_code == 201  # no preferences on file: the admin decides


async def test_profiles_stored_under_older_looser_rules_are_still_shown(stack: Stack) -> None:
    await stack.mentor("m-new")
    legacy = {"name": "Dr Old", "languages": ["Klingon (imperial)"], "interests": ["i" * 300], "capacity": 2}
    await stack.ctx.repo.mentors.insert_one({"_id": "m-legacy", **legacy})
    await stack.ctx.repo.mentees.insert_one({"_id": "s-legacy", "languages": ["x"], "avoid": [""]})
    listed = await stack.client.get("/v1/mentors?limit=1", headers=auth("s1", "student"))
    assert listed.status_code == 200, listed.text
    one = await stack.client.get("/v1/mentors/m-legacy", headers=ADMIN)
    assert one.status_code == 200 and one.json()["languages"] == ["Klingon (imperial)"]
    mine = await stack.client.get("/v1/mentees/me", headers=auth("s-legacy", "student"))
    assert mine.status_code == 200 and mine.json()["languages"] == ["x"]


async def test_my_mentor_profile(stack: Stack) -> None:
    mine = auth("m1", "mentor")
    missing = await stack.client.get("/v1/mentors/me", headers=mine)
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    await stack.mentor("m1", capacity=2, background="first-generation")
    await stack.assign("m1", "s1")
    profile = await stack.client.get("/v1/mentors/me", headers=mine)
    assert profile.status_code == 200, profile.text
    body = profile.json()
    assert (body["id"], body["capacity"], body["active_mentees"], body["background"]) == (
        "m1",
        2,
        1,
        "first-generation",
    )
    assert (await stack.client.get("/v1/mentors/me", headers=auth("m2", "mentor"))).status_code == 404
    assert (await stack.client.get("/v1/mentors/m1", headers=auth("m2", "mentor"))).json()["background"] is None
    gets = [route.path for route in api_profiles.router.routes if "GET" in getattr(route, "methods", ())]  # type: ignore[attr-defined]
    assert gets.index("/v1/mentors/me") < gets.index("/v1/mentors/{mentor_id}")  # "me" is never taken for an id


async def test_a_list_pages_with_limit_and_cursor(stack: Stack) -> None:
    for i in range(5):
        await stack.mentor(f"m{i}", capacity=1)
        assert (await stack.assign(f"m{i}", f"s{i}")).status_code == 201
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await stack.client.get("/v1/assignments", params=params, headers=ADMIN)).json()
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 5
    mentors = (await stack.client.get("/v1/mentors", params={"limit": 3}, headers=ADMIN)).json()
    assert [m["id"] for m in mentors["items"]] == ["m0", "m1", "m2"] and mentors["next_cursor"]


async def test_manual_assignment_honours_idempotency_key(stack: Stack) -> None:
    await stack.mentor("m1", capacity=3)
    headers = {**ADMIN, "Idempotency-Key": "assign-s1-once"}
    body = {"mentor_id": "m1", "mentee_id": "s1"}
    first = await stack.client.post("/v1/assignments", json=body, headers=headers)
    retry = await stack.client.post("/v1/assignments", json=body, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201) and first.json() == retry.json()
    other = await stack.client.post("/v1/assignments", json={**body, "mentee_id": "s2"}, headers=headers)
    assert other.status_code == 409
    assert len(await stack.active()) == 1
    assigned = await stack.reader.wait_for(lambda e: e.type == "mentor.assigned")
    assert [e.data["assignment_id"] for e in assigned] == [first.json()["id"]]
