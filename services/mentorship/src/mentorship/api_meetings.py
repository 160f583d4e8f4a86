"""Routes: meetings of an assignment, with notes private to their author."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from medsupport_shared.auth import CurrentPrincipal
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from mentorship import meetings
from mentorship.context import Context
from mentorship.domain.meetings import Meeting
from mentorship.schemas import MeetingIn, MeetingOut, MeetingPage

router = APIRouter(prefix="/v1", tags=["mentorship"])


def meeting_view(meeting: Meeting, viewer: str, cipher: FieldCipher) -> dict[str, Any]:
    """Private notes are visible to their author only."""
    return {
        "id": meeting.id,
        "assignment_id": meeting.assignment_id,
        "met_at": meeting.met_at,
        "format": meeting.format,
        "logged_by": meeting.logged_by,
        "my_notes": cipher.decrypt(meeting.notes.get(viewer)),
    }


@router.post(
    "/assignments/{assignment_id}/meetings",
    response_model=MeetingOut,
    status_code=201,
    summary="Log a meeting (mentor or mentee, while the mentorship is active)",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def add_meeting(
    assignment_id: str,
    body: MeetingIn,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def create() -> dict[str, Any]:
        meeting = await meetings.log_meeting(
            ctx=ctx,
            principal=principal,
            assignment_id=assignment_id,
            met_at=body.met_at,
            meeting_format=body.format,
            notes=body.notes,
        )
        return MeetingOut.model_validate(meeting_view(meeting, principal.sub, ctx.cipher)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="meetings.create",
        owner=principal.sub,
        payload={"assignment_id": assignment_id, "meeting": body},
        create=create,
    )


@router.get(
    "/assignments/{assignment_id}/meetings",
    response_model=MeetingPage,
    summary="Meetings of an assignment, most recent first (notes: only your own)",
    responses=problem_responses(*AUTH_ERRORS, 400, 404),
)
async def list_meetings(
    assignment_id: str, principal: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    items, next_cursor = await meetings.list_meetings(
        ctx=ctx, principal=principal, assignment_id=assignment_id, limit=limit, cursor=cursor
    )
    return {"items": [meeting_view(m, principal.sub, ctx.cipher) for m in items], "next_cursor": next_cursor}
