"""Routes: assignments (by hand, list, show, end)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from medsupport_shared.auth import CurrentPrincipal, Principal, Role
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from mentorship import assignments
from mentorship.context import Admin, Context
from mentorship.domain.assignments import Assignment
from mentorship.schemas import AssignmentIn, AssignmentOut, AssignmentPage, EndAssignmentIn

router = APIRouter(prefix="/v1", tags=["mentorship"])


def assignment_view(assignment: Assignment, principal: Principal, cipher: FieldCipher) -> dict[str, Any]:
    """The reason a mentorship ended is private to admins."""
    view = assignment.model_dump()
    view["end_reason"] = cipher.decrypt(assignment.end_reason) if Role.ADMIN in principal.roles else None
    return view


@router.post(
    "/assignments",
    response_model=AssignmentOut,
    status_code=201,
    summary="Assign a mentor by hand (admin)",
    description="The hard constraints of matching still hold: 409 when the mentor is paused or full, is on "
    "the student's avoid-list, or shares no language with the student's preferences, or when the student "
    "already has an active mentor.",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def create_assignment(
    body: AssignmentIn, principal: Admin, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        assignment = await assignments.assign(ctx=ctx, mentor_id=body.mentor_id, mentee_id=body.mentee_id, how="manual")
        view = assignment_view(assignment, principal, ctx.cipher)
        return AssignmentOut.model_validate(view).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="assignments.create", owner=principal.sub, payload=body, create=create
    )


@router.get(
    "/assignments",
    response_model=AssignmentPage,
    summary="My assignments (as mentor or mentee; admin: all)",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_assignments(
    principal: CurrentPrincipal,
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    status: Literal["active", "ended"] | None = None,
) -> Any:
    items, next_cursor = await assignments.list_assignments(
        ctx=ctx, principal=principal, status=status, limit=limit, cursor=cursor
    )
    return {"items": [assignment_view(a, principal, ctx.cipher) for a in items], "next_cursor": next_cursor}


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="One assignment",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_assignment(assignment_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    assignment = await assignments.visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    return assignment_view(assignment, principal, ctx.cipher)


@router.post(
    "/assignments/{assignment_id}/end",
    response_model=AssignmentOut,
    summary="End a mentorship (mentor, mentee or admin); frees the mentor's capacity",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def end(assignment_id: str, body: EndAssignmentIn, principal: CurrentPrincipal, ctx: Context) -> Any:
    ended = await assignments.end_assignment(
        ctx=ctx, principal=principal, assignment_id=assignment_id, reason=body.reason
    )
    return assignment_view(ended, principal, ctx.cipher)
