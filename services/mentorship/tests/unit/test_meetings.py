"""Meetings and reminders through the use cases, on the in-memory repository."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound
from medsupport_shared.events import utcnow
from mentorship.assignments import assign, end_assignment
from mentorship.domain.assignments import Assignment
from mentorship.meeting_reminders import send_meeting_reminders
from mentorship.meetings import list_meetings, log_meeting

from ..fakes import FakeMentorshipRepository, fake_context

MENTOR = Principal(sub="m1", roles=frozenset({"mentor"}))
MENTEE = Principal(sub="s1", roles=frozenset({"student"}))
ADMIN = Principal(sub="admin-1", roles=frozenset({"admin"}))


async def test_a_meeting_is_logged_by_a_side_with_notes_private_to_its_author() -> None:
    ctx, repo, outbox = fake_context()
    repo.add_mentor("m1", languages=["en"], capacity=1)
    made = await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    met_at = utcnow() - timedelta(days=2)
    meeting = await log_meeting(
        ctx=ctx, principal=MENTOR, assignment_id=made.id, met_at=met_at, meeting_format="video", notes="mine"
    )
    assert meeting.logged_by == "m1" and ctx.cipher.decrypt(meeting.notes["m1"]) == "mine"
    assert "mine" not in str(repo.meetings)  # encrypted at rest
    [event] = outbox.events("meeting.logged")
    assert (event.data["meeting_id"], event.data["logged_by"]) == (meeting.id, "mentor")
    assert "notes" not in event.data
    stored = await repo.assignment(assignment_id=made.id)
    assert stored is not None and stored.last_meeting_at == met_at
    earlier = await log_meeting(
        ctx=ctx,
        principal=MENTEE,
        assignment_id=made.id,
        met_at=met_at - timedelta(days=1),
        meeting_format="chat",
        notes=None,
    )
    assert earlier.notes == {}
    stored = await repo.assignment(assignment_id=made.id)
    assert stored is not None and stored.last_meeting_at == met_at  # only moves forward
    seen, _ = await list_meetings(ctx=ctx, principal=MENTEE, assignment_id=made.id, limit=50, cursor=None)
    assert [m.id for m in seen] == [meeting.id, earlier.id]  # most recent first


async def test_only_the_sides_of_an_active_mentorship_log_meetings() -> None:
    ctx, repo, outbox = fake_context()
    repo.add_mentor("m1", languages=["en"], capacity=1)
    made = await assign(ctx=ctx, mentor_id="m1", mentee_id="s1", how="manual")
    when = utcnow()
    with pytest.raises(Forbidden, match="only the mentor or the mentee"):
        await log_meeting(
            ctx=ctx, principal=ADMIN, assignment_id=made.id, met_at=when, meeting_format="video", notes=None
        )
    stranger = Principal(sub="s2", roles=frozenset({"student"}))
    with pytest.raises(NotFound):
        await log_meeting(
            ctx=ctx, principal=stranger, assignment_id=made.id, met_at=when, meeting_format="video", notes=None
        )
    with pytest.raises(NotFound):
        await list_meetings(ctx=ctx, principal=stranger, assignment_id=made.id, limit=50, cursor=None)
    await end_assignment(ctx=ctx, principal=MENTOR, assignment_id=made.id, reason=None)
    with pytest.raises(Conflict, match="has ended"):
        await log_meeting(
            ctx=ctx, principal=MENTEE, assignment_id=made.id, met_at=when, meeting_format="video", notes=None
        )
    assert repo.meetings == {} and outbox.events("meeting.logged") == []


async def quiet_assignment(repo: FakeMentorshipRepository, assignment_id: str, days: float) -> Assignment:
    started = utcnow() - timedelta(days=days)
    assignment = Assignment(
        id=assignment_id,
        mentor_id="m1",
        mentee_id=f"s-{assignment_id}",
        status="active",
        how="manual",
        assigned_at=started,
        created_at=started,
    )
    await repo.insert_assignment(assignment=assignment, entries=[])
    return assignment


async def test_a_quiet_mentorship_is_reminded_once_per_quiet_period() -> None:
    ctx, repo, outbox = fake_context(meeting_reminder_days=28)
    quiet = await quiet_assignment(repo, "quiet", days=30)
    await quiet_assignment(repo, "recent", days=3)
    assert await send_meeting_reminders(ctx=ctx) == 1
    [event] = outbox.events("meeting.reminder_due")
    assert event.data["assignment_id"] == "quiet" and event.data.get("last_meeting_at") is None
    assert datetime.fromisoformat(event.data["due_at"]) == quiet.assigned_at + timedelta(days=28)
    assert await send_meeting_reminders(ctx=ctx) == 0  # the same quiet period: no second reminder
    # a meeting long ago starts a new quiet period, already over: one more reminder
    await repo.raise_last_meeting(assignment_id="quiet", met_at=utcnow() - timedelta(days=29))
    assert await send_meeting_reminders(ctx=ctx) == 1
    assert len(outbox.events("meeting.reminder_due")) == 2 and ctx.sweeps["reminders"] == 3
