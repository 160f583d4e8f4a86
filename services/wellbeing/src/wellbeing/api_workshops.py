"""Wellness workshops: scheduled by admins and the wellbeing lead, listed for everyone, students sign up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from wellbeing import workshops
from wellbeing.context import Context
from wellbeing.domain.workshops import Seat, Workshop
from wellbeing.workshop_schemas import SeatOut, WorkshopIn, WorkshopOut, WorkshopPage

Keepers = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
router = APIRouter(prefix="/v1", tags=["resources"])


def view(workshop: Workshop, taken: workshops.SeatsTaken) -> dict[str, Any]:
    return {
        "id": workshop.id,
        "title": workshop.title,
        "description": workshop.description,
        "sessions": workshops.sessions_view(workshop, taken),
    }


def seat_view(seat: Seat) -> dict[str, Any]:
    return {
        "workshop_id": seat.workshop_id,
        "session_id": seat.session_id,
        "seat": seat.id,
        "starts_at": seat.starts_at,
        "signed_up_at": seat.signed_up_at,
    }


@router.get(
    "/workshops", response_model=WorkshopPage, summary="Wellness workshops", responses=problem_responses(401, 400)
)
async def list_workshops(_: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None) -> Any:
    items, next_cursor = await workshops.list_workshops(ctx=ctx, limit=limit, cursor=cursor)
    return {"items": [view(w, taken) for w, taken in items], "next_cursor": next_cursor}


@router.post(
    "/workshops",
    status_code=201,
    response_model=WorkshopOut,
    summary="Schedule a workshop with its sessions (admin, wellbeing lead); honours `Idempotency-Key`",
    responses=problem_responses(*AUTH_ERRORS),
)
async def schedule_workshop(
    body: WorkshopIn, principal: Keepers, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        workshop, taken = await workshops.schedule_workshop(
            ctx=ctx,
            title=body.title,
            description=body.description,
            sessions=[s.model_dump() for s in body.sessions],
        )
        return WorkshopOut.model_validate(view(workshop, taken)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="workshops.create", owner=principal.sub, payload=body, create=create
    )


@router.post(
    "/workshops/{workshop_id}/sessions/{session_id}/seats",
    status_code=201,
    response_model=SeatOut,
    summary="Sign up for a session (student): the first free seat, or the one you already hold; honours "
    "`Idempotency-Key`",
    description="409 when the session is full or has started. A reminder comes `WORKSHOP_REMINDER_HOURS` before.",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def sign_up(
    workshop_id: str, session_id: str, principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        seat = await workshops.sign_up(ctx=ctx, principal=principal, workshop_id=workshop_id, session_id=session_id)
        return SeatOut.model_validate(seat_view(seat)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="workshops.sign_up",
        owner=principal.sub,
        payload={"workshop_id": workshop_id, "session_id": session_id},
        create=create,
    )


@router.delete(
    "/workshops/{workshop_id}/sessions/{session_id}/seats/me",
    status_code=204,
    summary="Cancel my sign-up (student); the seat is free again",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def cancel_sign_up(workshop_id: str, session_id: str, principal: Student, ctx: Context) -> Response:
    await workshops.cancel_sign_up(ctx=ctx, principal=principal, workshop_id=workshop_id, session_id=session_id)
    return Response(status_code=204)
