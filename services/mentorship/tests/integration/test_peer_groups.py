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
    items = (await stack.client.get("/v1/peer-groups", params={"limit": 200}, headers=FACULTY)).json()["items"]
    return {g["id"]: g["members"] for g in items}


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
    assert await place(stack, "s1") == {"s1": rare}
