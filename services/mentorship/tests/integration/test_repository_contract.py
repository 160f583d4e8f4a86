"""The in-memory repository of the unit tests keeps the real one's contract: the same checks, run against
both (the real one on the MongoDB-protocol server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.mongo import create_client
from mentorship.domain.assignments import Assignment
from mentorship.domain.meetings import Meeting
from mentorship.domain.profiles import MenteePreferences, MentorProfile
from mentorship.repository import MentorshipRepository

from ..fakes import FakeMentorshipRepository


def millis(moment: datetime) -> datetime:
    """BSON dates keep milliseconds."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@pytest.fixture(params=["fake", "real"])
async def repo(request: pytest.FixtureRequest, isolation: Any) -> AsyncIterator[Any]:
    if request.param == "fake":
        yield FakeMentorshipRepository()
        return
    client = create_client(isolation.infra.mongo_url)
    name = f"mentorship_contract_{isolation.run_id}"
    isolation.databases.append(name)
    real = MentorshipRepository(client[name])
    await real.ensure_indexes()
    try:
        yield real
    finally:
        await client.close()


def assignment(assignment_id: str, mentor_id: str, mentee_id: str, *, minutes_ago: int) -> Assignment:
    at = millis(utcnow() - timedelta(minutes=minutes_ago))
    return Assignment(
        id=assignment_id,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        status="active",
        how="manual",
        assigned_at=at,
        created_at=at,
        criteria={"specialty": 3.0},
        score=3.0,
    )


async def test_slots_are_taken_once_and_given_back(repo: Any) -> None:
    assert await repo.take_slot(slot_id="m1:0", assignment_id="a1") is True
    assert await repo.take_slot(slot_id="m1:0", assignment_id="a2") is False
    await repo.release_slots(assignment_id="a1")
    assert await repo.take_slot(slot_id="m1:0", assignment_id="a2") is True


async def test_assignments_are_stored_read_ended_once_and_listed(repo: Any) -> None:
    first, second = assignment("a1", "m1", "s1", minutes_ago=2), assignment("a2", "m1", "s2", minutes_ago=1)
    for made in (first, second):
        await repo.insert_assignment(assignment=made, entries=[])
    assert await repo.assignment(assignment_id="a1") == first
    assert await repo.assignment(assignment_id="nope") is None
    assert await repo.active_load() == {"m1": 2}
    ended = first.ended(at=millis(utcnow()), by="mentee", encrypted_reason="sealed")
    assert await repo.end_assignment(ended=ended, entries=[]) is True
    assert await repo.end_assignment(ended=ended, entries=[]) is False  # only while active
    assert await repo.assignment(assignment_id="a1") == ended
    assert await repo.active_load() == {"m1": 1}
    assert [a.id for a in await repo.active_assignments()] == ["a2"]
    everyone, _ = await repo.page_assignments(party=None, status=None, limit=50, cursor=None)
    assert [a.id for a in everyone] == ["a2", "a1"]  # newest first
    theirs, _ = await repo.page_assignments(party="s1", status=None, limit=50, cursor=None)
    assert [a.id for a in theirs] == ["a1"]
    active, _ = await repo.page_assignments(party="m1", status="active", limit=50, cursor=None)
    assert [a.id for a in active] == ["a2"]
    page, cursor = await repo.page_assignments(party=None, status=None, limit=1, cursor=None)
    rest, last = await repo.page_assignments(party=None, status=None, limit=1, cursor=cursor)
    assert [a.id for a in page + rest] == ["a2", "a1"] and last is None


async def test_meetings_list_newest_first_and_the_last_meeting_only_moves_forward(repo: Any) -> None:
    await repo.insert_assignment(assignment=assignment("a1", "m1", "s1", minutes_ago=60), entries=[])
    now = millis(utcnow())
    for day in (3, 1, 2):
        met_at = now - timedelta(days=day)
        meeting = Meeting(id=f"meet-{day}", assignment_id="a1", met_at=met_at, format="video", logged_by="m1")
        await repo.insert_meeting(meeting=meeting, entries=[])
        await repo.raise_last_meeting(assignment_id="a1", met_at=met_at)
    listed, _ = await repo.page_meetings(assignment_id="a1", limit=50, cursor=None)
    assert [m.id for m in listed] == ["meet-1", "meet-2", "meet-3"]
    stored = await repo.assignment(assignment_id="a1")
    assert stored is not None and stored.last_meeting_at == now - timedelta(days=1)


async def test_a_reminder_is_stored_once(repo: Any) -> None:
    reminder = {"_id": "r1", "assignment_id": "a1", "created_at": utcnow()}
    assert await repo.insert_reminder(reminder=reminder, entries=[]) is True
    assert await repo.insert_reminder(reminder=reminder, entries=[]) is False


async def test_group_seats_and_membership(repo: Any) -> None:
    group = {"_id": "g1", "name": "circle", "cohort": "2027", "size_limit": 2, "interests": [], "created_at": utcnow()}
    await repo.insert_group(group=group)
    assert [await repo.join_group(group=group, student_id=s) for s in ("s1", "s2", "s3")] == [True, True, False]
    assert await repo.join_group(group=group, student_id="s1") is None  # already a member
    assert sorted(await repo.group_members(group_id="g1")) == ["s1", "s2"]
    assert await repo.groups_of(student_id="s1") == {"g1"}
    assert await repo.leave_group(group_id="g1", student_id="s1") is True
    assert await repo.join_group(group=group, student_id="s3") is True  # the seat was given back
    assert [g["_id"] for g in await repo.all_groups(cohort="2027")] == ["g1"]
    assert await repo.all_groups(cohort="2028") == []


async def test_profiles_are_saved_whole_and_waiting_students_are_those_without_an_active_mentor(repo: Any) -> None:
    profile = MentorProfile(id="m1", languages=["en"], capacity=2, formats=["video"], paused=False)
    await repo.save_mentor(profile=profile, at=utcnow())
    assert await repo.mentor(mentor_id="m1") == profile and await repo.mentor(mentor_id="m2") is None
    assert await repo.all_mentors() == [profile]
    assert (await repo.page_mentors(limit=50, cursor=None))[0] == [profile]
    for student in ("s1", "s2"):
        await repo.save_mentee(preferences=MenteePreferences(id=student, languages=["en"], cohort="2027"), at=utcnow())
    await repo.insert_assignment(assignment=assignment("a1", "m1", "s1", minutes_ago=1), entries=[])
    assert [p.id for p in await repo.waiting_mentees()] == ["s2"]
    assert await repo.waiting_mentees(student_id="s1") == []
    mine = await repo.mentee(student_id="s2")
    assert mine is not None and (mine.cohort, mine.languages) == ("2027", ["en"])
    assert await repo.has_active_mentor(student_id="s1") and not await repo.has_active_mentor(student_id="s2")
