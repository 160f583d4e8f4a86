"""Use cases of assignments: assign a mentor under capacity and the hard constraints, show, list and end."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from medsupport_shared.auth import Principal, Role
from medsupport_shared.domain_errors import Conflict, NotFound
from medsupport_shared.event_types import MentorAssigned, MentorshipEnded
from medsupport_shared.events import utcnow
from mentorship.context import MentorshipContext
from mentorship.domain.assignments import Assignment, Side, side_of
from mentorship.domain.matching import shares_language
from mentorship.metrics import ASSIGNMENTS_MADE
from mentorship.repository import ASSIGNMENTS, Document

log = logging.getLogger(__name__)


async def assign(
    *,
    ctx: MentorshipContext,
    mentor_id: str,
    mentee_id: str,
    how: str,
    score: float = 0.0,
    criteria: dict[str, float] | None = None,
) -> Assignment:
    """Take a free slot of the mentor (unique slot documents) and the student's single active place."""
    mentor = await ctx.repo.mentor(mentor_id=mentor_id)
    if mentor is None:
        raise NotFound("no mentor with that id")
    if mentor.paused:
        raise Conflict("the mentor is paused and takes no new mentees")
    preferences = await ctx.repo.mentee(student_id=mentee_id)  # none on file: the admin decides
    if preferences is not None and mentor_id in preferences.avoid:
        raise Conflict("the student asked not to be matched with this mentor")
    if preferences is not None and not shares_language(preferences.languages, mentor.languages):
        raise Conflict("the mentor and the student share no language")
    assignment_id = uuid.uuid4().hex
    if not await ctx.repo.take_slot(slot_id=f"mentee:{mentee_id}", assignment_id=assignment_id):
        raise Conflict("the student already has an active mentor")
    try:
        for slot in range(mentor.capacity):
            if await ctx.repo.take_slot(slot_id=f"{mentor_id}:{slot}", assignment_id=assignment_id):
                break
        else:
            raise Conflict("the mentor has no free capacity")
        now = utcnow()
        assignment = Assignment(
            id=assignment_id,
            mentor_id=mentor_id,
            mentee_id=mentee_id,
            status="active",
            how=how,
            score=score,
            criteria=criteria or {},
            assigned_at=now,
            created_at=now,
        )

        async def insert(entries: list[Document]) -> bool:
            await ctx.repo.insert_assignment(assignment=assignment, entries=entries)
            return True

        assigned = MentorAssigned(
            assignment_id=assignment_id, mentor_id=mentor_id, mentee_id=mentee_id, assigned_at=now, score=score
        )
        await ctx.changes.record(ASSIGNMENTS, assignment_id, insert, assigned)
    except BaseException:
        await _release_unless_stored(ctx, assignment_id)
        raise
    ASSIGNMENTS_MADE.labels(how).inc()
    return assignment


async def _release_unless_stored(ctx: MentorshipContext, assignment_id: str) -> None:
    """Give back the slots of an assignment that was not written (a refusal, or a failed insert). An insert
    that failed on the way back may still have been applied: then its slots stay held."""
    try:
        if await ctx.repo.assignment(assignment_id=assignment_id) is None:
            await ctx.repo.release_slots(assignment_id=assignment_id)
    except Exception:
        log.exception("could not release the slots of an unwritten assignment", extra={"assignment_id": assignment_id})


def side_for(principal: Principal, assignment: Assignment) -> Side | None:
    return side_of(assignment, principal.sub, admin=Role.ADMIN in principal.roles)


async def visible_assignment(*, ctx: MentorshipContext, principal: Principal, assignment_id: str) -> Assignment:
    assignment = await ctx.repo.assignment(assignment_id=assignment_id)
    if assignment is None or side_for(principal, assignment) is None:
        raise NotFound("no assignment with that id")  # no hint that it exists
    return assignment


async def list_assignments(
    *,
    ctx: MentorshipContext,
    principal: Principal,
    status: Literal["active", "ended"] | None,
    limit: int | None,
    cursor: str | None,
) -> tuple[list[Assignment], str | None]:
    """The caller's own assignments, as mentor or mentee; an admin's: all."""
    party = None if Role.ADMIN in principal.roles else principal.sub
    return await ctx.repo.page_assignments(party=party, status=status, limit=limit, cursor=cursor)


async def end_assignment(
    *, ctx: MentorshipContext, principal: Principal, assignment_id: str, reason: str | None
) -> Assignment:
    assignment = await visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    if not assignment.active:
        raise Conflict("the assignment has already ended")
    side = side_for(principal, assignment)
    assert side is not None
    now = utcnow()
    ended = assignment.ended(at=now, by=side, encrypted_reason=ctx.cipher.encrypt(reason))

    async def store_end(entries: list[Document]) -> bool:
        if not await ctx.repo.end_assignment(ended=ended, entries=entries):
            return False
        await ctx.repo.release_slots(assignment_id=assignment_id)  # before the event leaves, as it always did
        return True

    event = MentorshipEnded(
        assignment_id=assignment_id,
        mentor_id=assignment.mentor_id,
        mentee_id=assignment.mentee_id,
        ended_at=now,
        ended_by=side,
    )
    if not await ctx.changes.record(ASSIGNMENTS, assignment_id, store_end, event):
        raise Conflict("the assignment has already ended")
    return ended
