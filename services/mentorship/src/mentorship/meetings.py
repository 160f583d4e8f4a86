"""Use cases of meetings: log one (mentor or mentee, while the mentorship is active) and list them."""

from __future__ import annotations

import uuid
from datetime import datetime

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden
from medsupport_shared.event_types import MeetingLogged
from medsupport_shared.events import utcnow
from mentorship.assignments import side_for, visible_assignment
from mentorship.context import MentorshipContext
from mentorship.domain.meetings import Meeting
from mentorship.repository import MEETINGS, Document


async def log_meeting(
    *,
    ctx: MentorshipContext,
    principal: Principal,
    assignment_id: str,
    met_at: datetime,
    meeting_format: str,
    notes: str | None,
) -> Meeting:
    assignment = await visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    side = side_for(principal, assignment)
    if side not in ("mentor", "mentee"):
        raise Forbidden("only the mentor or the mentee logs their meetings")
    if not assignment.active:
        raise Conflict("the mentorship has ended; no more meetings are logged")
    meeting_id = uuid.uuid4().hex
    logged = MeetingLogged(
        meeting_id=meeting_id,
        assignment_id=assignment_id,
        mentor_id=assignment.mentor_id,
        mentee_id=assignment.mentee_id,
        met_at=met_at,
        format=meeting_format,
        logged_by=side,
    )
    note = ctx.cipher.encrypt(notes) if notes else None
    meeting = Meeting(
        id=meeting_id,
        assignment_id=assignment_id,
        met_at=met_at,
        format=meeting_format,
        logged_by=principal.sub,
        created_at=utcnow(),
        notes={principal.sub: note} if note else {},
    )

    async def insert(entries: list[Document]) -> bool:
        await ctx.repo.insert_meeting(meeting=meeting, entries=entries)
        return True

    await ctx.changes.record(MEETINGS, meeting_id, insert, logged)
    await ctx.repo.raise_last_meeting(assignment_id=assignment_id, met_at=met_at)
    return meeting


async def list_meetings(
    *, ctx: MentorshipContext, principal: Principal, assignment_id: str, limit: int | None, cursor: str | None
) -> tuple[list[Meeting], str | None]:
    """The meetings of an assignment the caller may see, most recent first."""
    await visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    return await ctx.repo.page_meetings(assignment_id=assignment_id, limit=limit, cursor=cursor)
