"""Capacity and one-mentor-per-student hold under concurrency (unique slot documents, FerretDB included)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from medsupport_shared.testing import auth
from mentorship import assignments

from .conftest import ADMIN, Stack

pytestmark = pytest.mark.integration


def assert_invariants(active: list[dict], capacity: dict[str, int]) -> None:
    per_mentor = Counter(a["mentor_id"] for a in active)
    assert all(per_mentor[m] <= capacity[m] for m in per_mentor), per_mentor
    per_mentee = Counter(a["mentee_id"] for a in active)
    assert all(n == 1 for n in per_mentee.values()), per_mentee


async def test_two_slots_left_and_eight_concurrent_assignments_exactly_two_succeed(stack: Stack) -> None:
    await stack.mentor("m1", capacity=3)
    assert (await stack.assign("m1", "already")).status_code == 201  # the current load counts
    results = await asyncio.gather(*[stack.assign("m1", f"s{i}") for i in range(8)])
    assert sorted(r.status_code for r in results) == [201] * 2 + [409] * 6
    active = await stack.active()
    assert len(active) == 3
    assert_invariants(active, {"m1": 3})
    profile = (await stack.client.get("/v1/mentors/m1", headers=ADMIN)).json()
    assert profile["active_mentees"] == 3


async def test_one_student_assigned_concurrently_to_several_mentors_gets_exactly_one(stack: Stack) -> None:
    for m in ("m1", "m2", "m3", "m4"):
        await stack.mentor(m, capacity=2)
    results = await asyncio.gather(*[stack.assign(m, "s1") for m in ("m1", "m2", "m3", "m4")])
    assert sorted(r.status_code for r in results) == [201] + [409] * 3
    active = await stack.active()
    assert [a["mentee_id"] for a in active] == ["s1"]
    # the refused attempts left no slot behind: the other mentors still take two students each
    for m in ("m1", "m2", "m3", "m4"):
        if m != active[0]["mentor_id"]:
            assert (await stack.assign(m, f"{m}-a")).status_code == 201
            assert (await stack.assign(m, f"{m}-b")).status_code == 201


async def test_matching_runs_racing_manual_assignments_never_exceed_capacity(stack: Stack) -> None:
    capacity = {"m1": 2, "m2": 1}
    for mentor_id, slots in capacity.items():
        await stack.mentor(mentor_id, capacity=slots)
    students = [f"s{i}" for i in range(6)]
    for s in students:
        await stack.wants(s)
    runs = [stack.client.post("/v1/matching/runs", json={}, headers=ADMIN) for _ in range(2)]
    manual = [stack.assign(m, s) for m in capacity for s in students[:3]]
    results = await asyncio.gather(*runs, *manual)
    assert all(r.status_code in (201, 409) for r in results), [r.text for r in results]
    raced = await stack.active()
    assert 1 <= len(raced) <= 3  # no slot used twice
    assert_invariants(raced, capacity)
    made = [m for r in results[:2] for m in r.json()["matches"]]
    assert all(m["assignment_id"] for m in made)  # a run reports only what it really assigned
    # An attempt holds a student's place or a slot for a moment before it is refused, so a racing attempt
    # may be refused although the slot ends up free. None is lost: one quiet run fills what is left.
    settle = await stack.client.post("/v1/matching/runs", json={}, headers=ADMIN)
    assert len(settle.json()["matches"]) == 3 - len(raced)
    active = await stack.active()
    assert len(active) == 3  # every slot is used, none twice
    assert_invariants(active, capacity)
    assigned = await stack.reader.wait_for(lambda e: e.type == "mentor.assigned", count=3)
    assert {e.data["assignment_id"] for e in assigned} == {a["id"] for a in active}


async def test_both_sides_ending_at_once_end_it_once_and_free_one_slot(stack: Stack) -> None:
    await stack.mentor("m1", capacity=1)
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    path = f"/v1/assignments/{assignment_id}/end"
    results = await asyncio.gather(
        stack.client.post(path, json={"reason": "a"}, headers=auth("m1", "mentor")),
        stack.client.post(path, json={"reason": "b"}, headers=auth("s1", "student")),
        stack.client.post(path, json={}, headers=ADMIN),
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409]
    ended = await stack.reader.wait_for(lambda e: e.type == "mentorship.ended")
    assert len(ended) == 1 and ended[0].data["assignment_id"] == assignment_id
    again = await asyncio.gather(*[stack.assign("m1", f"t{i}") for i in range(4)])
    assert sorted(r.status_code for r in again) == [201, 409, 409, 409]
    assert len(await stack.active()) == 1
    # the event about the end was published once, even after the relay had time to run again
    assigned = await stack.reader.wait_for(lambda e: e.type == "mentor.assigned", count=2)
    assert len([e for e in stack.reader.events if e.type == "mentorship.ended"]) == 1
    assert len(assigned) == 2


async def test_an_insert_that_fails_gives_the_slots_back(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = stack.ctx.repo
    await stack.mentor("m1", capacity=1)
    await stack.mentor("m2", capacity=1)
    real_insert = repo.insert_assignment

    async def lost(**_: Any) -> None:
        raise AutoReconnect("the database went away before the insert")

    async def applied_then_lost(**kwargs: Any) -> None:
        await real_insert(**kwargs)
        raise AutoReconnect("the database went away after the insert")

    monkeypatch.setattr(repo, "insert_assignment", lost)
    with pytest.raises(AutoReconnect):
        await assignments.assign(ctx=stack.ctx, mentor_id="m1", mentee_id="s1", how="manual")
    assert await repo.slots.count_documents({}) == 0  # neither the student's place nor the mentor's slot leaked
    # an insert that was applied although the call failed keeps its slots: capacity is never exceeded
    monkeypatch.setattr(repo, "insert_assignment", applied_then_lost)
    with pytest.raises(AutoReconnect):
        await assignments.assign(ctx=stack.ctx, mentor_id="m2", mentee_id="s2", how="manual")
    assert await repo.slots.count_documents({}) == 2
    monkeypatch.undo()

    assert (await stack.assign("m1", "s1")).status_code == 201  # the slots were free again
    assert (await stack.assign("m2", "s3")).status_code == 409  # m2's one slot is the stored assignment's
    assert (await stack.assign("m1", "s2")).status_code == 409  # s2 has their (stored) mentor
    assert Counter(a["mentor_id"] for a in await stack.active()) == {"m1": 1, "m2": 1}
