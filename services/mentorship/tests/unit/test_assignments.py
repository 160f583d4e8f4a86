"""Assigning and ending through the use cases, on the in-memory repository (the same rules run on the real
database in tests/integration)."""

from __future__ import annotations

from typing import Any

import pytest

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound
from mentorship.assignments import assign, end_assignment, list_assignments, visible_assignment

from ..fakes import FakeMentorshipRepository, fake_context


def person(sub: str, role: str) -> Principal:
    return Principal(sub=sub, roles=frozenset({role}))


ADMIN = person("admin-1", "admin")


async def mentor(repo: FakeMentorshipRepository, mentor_id: str, **profile: Any) -> None:
    repo.add_mentor(mentor_id, **{"languages": ["en"], "capacity": 1, **profile})


async def test_an_assignment_takes_a_slot_of_the_mentor_and_the_students_place_and_publishes_it() -> None:
    ctx, repo, outbox = fake_context()
    await mentor(repo, "m1", capacity=2)
    made = await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    assert (made.status, made.how, made.mentor_id, made.mentee_id) == ("active", "manual", "m1", "s1")
    assert repo.slots == {"mentee:s1": made.id, "m1:0": made.id}
    [event] = outbox.events("mentor.assigned")
    assert event.data["assignment_id"] == made.id and event.subject is not None
    assert repo.outbox[made.id][0]["id"] == event.id  # stored with the assignment before it left


async def test_a_full_mentor_refuses_and_gives_the_students_place_back() -> None:
    ctx, repo, outbox = fake_context()
    await mentor(repo, "m1", capacity=1)
    await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    with pytest.raises(Conflict, match="no free capacity"):
        await assign(ctx=ctx, mentor_id="m1", mentee_id="s2", how="manual")
    assert "mentee:s2" not in repo.slots and len(outbox.events()) == 1


@pytest.mark.parametrize(
    ("profile", "preferences", "refusal"),
    [
        ({"paused": True}, None, "paused"),
        ({}, {"languages": ["en"], "avoid": ["m1"]}, "asked not to be matched"),
        ({}, {"languages": ["fr"]}, "share no language"),
    ],
)
async def test_hard_constraints_hold_for_a_manual_assignment(
    profile: dict[str, Any], preferences: dict[str, Any] | None, refusal: str
) -> None:
    ctx, repo, outbox = fake_context()
    await mentor(repo, "m1", **profile)
    if preferences:
        repo.add_mentee("s1", **preferences)
    with pytest.raises(Conflict, match=refusal):
        await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    assert repo.slots == {} and repo.assignments == {} and outbox.dispatched == []


async def test_a_student_has_one_active_mentor_and_an_unknown_mentor_is_not_found() -> None:
    ctx, repo, _ = fake_context()
    await mentor(repo, "m1")
    await mentor(repo, "m2")
    await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    with pytest.raises(Conflict, match="already has an active mentor"):
        await assign(ctx=ctx, mentor_id="m2", mentee_id="s1", how="manual")
    assert not [slot for slot in repo.slots if slot.startswith("m2:")]
    with pytest.raises(NotFound):
        await assign(ctx=ctx, mentor_id="nobody", mentee_id="s2", how="manual")


async def test_a_failed_insert_gives_the_slots_back() -> None:
    ctx, repo, outbox = fake_context()
    await mentor(repo, "m1")

    async def lost(**_: Any) -> None:
        raise ConnectionError("the database went away")

    repo.insert_assignment = lost  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    assert repo.slots == {} and outbox.dispatched == []


async def test_ending_frees_the_slot_once_says_who_ended_and_keeps_the_reason_for_admins() -> None:
    ctx, repo, outbox = fake_context()
    await mentor(repo, "m1")
    made = await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    ended = await end_assignment(ctx=ctx, principal=person("s1", "student"), assignment_id=made.id, reason="bye")
    assert (ended.status, ended.ended_by) == ("ended", "mentee") and repo.slots == {}
    assert ended.end_reason != "bye" and ctx.cipher.decrypt(ended.end_reason) == "bye"  # encrypted at rest
    assert (await repo.assignment(assignment_id=made.id)) == ended
    [event] = outbox.events("mentorship.ended")
    assert event.data["ended_by"] == "mentee"
    with pytest.raises(Conflict, match="already ended"):
        await end_assignment(ctx=ctx, principal=ADMIN, assignment_id=made.id, reason=None)
    assert len(outbox.events("mentorship.ended")) == 1
    assert (await assign(ctx=ctx, mentor_id="m1", mentee_id="s2", how="manual")).status == "active"


async def test_only_the_two_sides_and_admins_see_an_assignment() -> None:
    ctx, repo, _ = fake_context()
    await mentor(repo, "m1", capacity=2)
    first = await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    await assign(ctx=ctx, mentor_id="m1", mentee_id="s2", how="manual")
    for someone in (person("m1", "mentor"), person("s1", "student"), ADMIN):
        assert await visible_assignment(ctx=ctx, principal=someone, assignment_id=first.id) == first
    with pytest.raises(NotFound, match="no assignment with that id"):
        await visible_assignment(ctx=ctx, principal=person("s2", "student"), assignment_id=first.id)
    with pytest.raises(NotFound):
        await end_assignment(ctx=ctx, principal=person("m2", "mentor"), assignment_id=first.id, reason=None)

    async def ids(principal: Principal, status: Any = None) -> set[str]:
        items, _ = await list_assignments(ctx=ctx, principal=principal, status=status, limit=50, cursor=None)
        return {a.mentee_id for a in items}

    assert await ids(person("s1", "student")) == {"s1"}
    assert await ids(person("m1", "mentor")) == await ids(ADMIN) == {"s1", "s2"}
    assert await ids(ADMIN, "ended") == set()


async def test_a_profile_stored_without_some_fields_is_read_with_the_defaults_the_rules_always_used() -> None:
    ctx, repo, _ = fake_context()
    repo.add_mentor("m-old", languages=["en"])  # no capacity stored: no room
    repo.add_mentor("m-paused", languages=["en"], capacity=1, paused=None)  # a null pause: not paused
    with pytest.raises(Conflict, match="no free capacity"):
        await assign(ctx=ctx, mentor_id="m-old", mentee_id="s1", how="manual")
    assert (await assign(ctx=ctx, mentor_id="m-paused", mentee_id="s1", how="manual")).status == "active"
