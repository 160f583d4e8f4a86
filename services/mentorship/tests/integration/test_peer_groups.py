"""Placing students into peer groups: by shared interests, within the requested cohort only, across every
group of the cohort (not the first page), and a seat freed by leaving is taken again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth

from .conftest import Stack

pytestmark = pytest.mark.integration

FACULTY = auth("f1", "faculty")


async def group(stack: Stack, name: str, cohort: str, interests: list[str], size_limit: int) -> str:
    body = {"name": name, "cohort": cohort, "interests": interests, "size_limit": size_limit}
    response = await stack.client.post("/v1/peer-groups", json=body, headers=FACULTY)
    assert response.status_code == 201, response.text
    group_id: str = response.json()["id"]
    return group_id


async def place(stack: Stack, *student_ids: str, cohort: str = "2027") -> dict[str, Any]:
    response = await stack.client.post(
        "/v1/peer-groups/matching", json={"cohort": cohort, "student_ids": list(student_ids)}, headers=FACULTY
    )
    assert response.status_code == 200, response.text
    placed: dict[str, Any] = response.json()["placed"]
    return placed


async def members(stack: Stack) -> dict[str, list[str]]:
    """As stored (no staff role sees the members of a group it does not facilitate)."""
    groups = await stack.ctx.repo.all_groups()
    return {g["_id"]: sorted(await stack.ctx.repo.group_members(group_id=g["_id"])) for g in groups}


async def opt_in(stack: Stack, *student_ids: str, cohort: str = "2027") -> None:
    for student_id in student_ids:
        body = {"open_to_placement": True}
        headers = auth(student_id, "student", cohort=cohort)
        assert (await stack.client.put("/v1/peer-groups/placement/me", json=body, headers=headers)).status_code == 200


async def test_placement_by_interest_within_the_cohort_and_leaving_frees_a_seat(stack: Stack) -> None:
    research = await group(stack, "Research circle", "2027", ["research"], 2)
    exams = await group(stack, "Exam prep", "2027", ["exam prep"], 2)
    elsewhere = await group(stack, "Research, class of 2028", "2028", ["research"], 10)
    for student in ("r1", "r2", "r3", "r4", "r5"):
        await stack.wants(student, interests=["research"])
    await stack.wants("e1", interests=["exam prep"])
    other_cohort = {"languages": ["en"], "interests": ["research"]}
    saved = await stack.client.put(
        "/v1/mentees/me", json=other_cohort, headers=auth("a-2028", "student", cohort="2028")
    )
    assert saved.status_code == 200
    await opt_in(stack, "r1", "r2", "r3", "r4", "r5", "e1")
    await opt_in(stack, "a-2028", cohort="2028")

    # placed in student-id order: the other cohort's student first, while every seat is free
    placed = await place(stack, "r1", "r2", "r3", "e1", "a-2028")
    assert placed == {"a-2028": None, "e1": exams, "r1": research, "r2": research, "r3": exams}
    assert await members(stack) == {research: ["r1", "r2"], exams: ["e1", "r3"], elsewhere: []}

    left = await stack.client.post(f"/v1/peer-groups/{research}/leave", headers=auth("r1", "student"))
    assert left.status_code == 200 and left.json()["members"] is None  # no longer a member: not shown
    assert await place(stack, "r3") == {"r3": exams}  # already placed: stays, takes no second seat
    assert await place(stack, "r4") == {"r4": research}  # the freed seat
    assert await place(stack, "r5") == {"r5": None}  # every group of the cohort is full
    assert await members(stack) == {research: ["r2", "r4"], exams: ["e1", "r3"], elsewhere: []}
    assert await place(stack, "a-2028", cohort="2028") == {"a-2028": elsewhere}


async def test_placement_considers_every_group_of_the_cohort(stack: Stack) -> None:
    rare = await group(stack, "Rural medicine", "2027", ["rural"], 4)  # the oldest: on the last page
    now = utcnow()
    await stack.ctx.repo.groups.insert_many(
        [
            {
                "_id": f"filler-{i:03d}",
                "name": f"Filler {i}",
                "cohort": "2027",
                "interests": [],
                "size_limit": 4,
                "created_by": "f1",
                "created_at": now + timedelta(milliseconds=i + 1),
            }
            for i in range(205)
        ]
    )
    await stack.wants("s1", interests=["rural"])
    await opt_in(stack, "s1")
    assert await place(stack, "s1") == {"s1": rare}


async def test_members_are_seen_by_members_and_the_facilitator_only_and_joining_stays_in_the_cohort(
    stack: Stack,
) -> None:
    body = {"name": "Support circle", "cohort": "2027", "size_limit": 4, "facilitator_id": "m1"}
    circle = (await stack.client.post("/v1/peer-groups", json=body, headers=FACULTY)).json()["id"]
    own = await stack.client.post(
        "/v1/peer-groups", json={"name": "Mine", "size_limit": 3}, headers=auth("s9", "student", cohort="2028")
    )
    assert own.json()["cohort"] == "2028" and "created_by" not in own.json()  # a student's group: their cohort
    s1 = auth("s1", "student", cohort="2027")
    assert (await stack.client.post(f"/v1/peer-groups/{circle}/join", headers=s1)).status_code == 200
    outsider = auth("s2", "student", cohort="2028")
    refused = await stack.client.post(f"/v1/peer-groups/{circle}/join", headers=outsider)
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"

    def view(headers: dict[str, str]) -> Any:
        return stack.client.get("/v1/peer-groups", params={"limit": 200}, headers=headers)

    for who, sees in ((s1, ["s1"]), (auth("m1", "mentor"), ["s1"]), (FACULTY, None), (auth("a1", "admin"), None)):
        items = {g["id"]: g for g in (await view(who)).json()["items"]}
        assert items[circle]["members"] == sees and "created_by" not in items[circle]


async def test_staff_place_only_students_who_opted_in_for_that_cohort(stack: Stack) -> None:
    circle = await group(stack, "Circle", "2027", ["research"], 5)
    await stack.wants("yes", interests=["research"])
    await stack.wants("no", interests=["research"])
    await opt_in(stack, "yes")
    await opt_in(stack, "elsewhere", cohort="2028")
    assert await place(stack, "yes", "no", "elsewhere", "stranger") == {
        "elsewhere": None,
        "no": None,
        "stranger": None,
        "yes": circle,
    }
    withdrawn = await stack.client.put(
        "/v1/peer-groups/placement/me", json={"open_to_placement": False}, headers=auth("yes", "student", cohort="2027")
    )
    assert withdrawn.json() == {"open_to_placement": False, "cohort": "2027"}
    assert await members(stack) == {circle: ["yes"]}


async def test_starting_peer_groups_is_limited_per_person(isolation: Any) -> None:
    from .conftest import mentorship_settings, start

    async with start(isolation, mentorship_settings(isolation, peer_groups_per_day=2)) as limited:
        student = auth("s1", "student", cohort="2027")
        for n in range(2):
            created = await limited.client.post(
                "/v1/peer-groups", json={"name": f"G{n}", "size_limit": 3}, headers=student
            )
            assert created.status_code == 201
        refused = await limited.client.post("/v1/peer-groups", json={"name": "G3", "size_limit": 3}, headers=student)
        assert refused.status_code == 429 and refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["Retry-After"]) > 0
        assert await limited.ctx.repo.groups.count_documents({}) == 2
        other = await limited.client.post("/v1/peer-groups", json={"name": "Theirs", "size_limit": 3}, headers=FACULTY)
        assert other.status_code == 201
