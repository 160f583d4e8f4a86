"""Routes for peer-support groups. Membership of a support group is sensitive: the members are shown
to the group's members and facilitator only, who started a group is never shown, a student joins only
a group of their own cohort (or one open to every cohort), and staff place only students who opted in."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, Conflict, Forbidden, NotFound, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from medsupport_shared.rate_limits import limit_per_user
from mentorship.api import Context
from mentorship.handlers import match_into_groups
from mentorship.schemas import GroupMatchingIn, PeerGroupIn, PeerGroupOut, PeerGroupPage, PlacementIn, PlacementOut

STAFF = (Role.FACULTY, Role.MENTOR, Role.COUNSELLOR, Role.WELLBEING_LEAD, Role.ADMIN)
Creator = Annotated[Principal, Depends(require_roles(*STAFF, Role.STUDENT))]
Staff = Annotated[Principal, Depends(require_roles(*STAFF))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
router = APIRouter(prefix="/v1/peer-groups", tags=["peer groups"])


HIDDEN = ("_id", "created_by", "created_at")


async def group_view(ctx: Any, group: dict[str, Any], principal: Principal) -> dict[str, Any]:
    members = await ctx.repo.group_members(group_id=group["_id"])
    may_see = principal.sub in members or principal.sub == group.get("facilitator_id")
    return {
        "id": group["_id"],
        **{k: v for k, v in group.items() if k not in HIDDEN},
        "members": sorted(members) if may_see else None,
        "seats_free": max(0, int(group.get("size_limit", 0)) - len(members)),
    }


@router.post(
    "",
    response_model=PeerGroupOut,
    status_code=201,
    summary="Start a peer-support group",
    responses=problem_responses(*AUTH_ERRORS, 409, 429),
)
async def create_group(
    body: PeerGroupIn, principal: Creator, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        await limit_per_user(
            ctx.counters,
            scope="peer-group",
            user=principal.sub,
            limit=ctx.settings.peer_groups_per_day,
            window_seconds=86400,
            what="new peer groups",
        )
        fields = body.model_dump()
        if not principal.has_any(*STAFF) and fields["cohort"] is None:
            fields["cohort"] = principal.cohort  # a student's group is for their cohort unless they say otherwise
        group = {"_id": uuid.uuid4().hex, **fields, "created_by": principal.sub, "created_at": utcnow()}
        await ctx.repo.insert_group(group=group)
        return PeerGroupOut.model_validate(await group_view(ctx, group, principal)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="peer_groups.create", owner=principal.sub, payload=body, create=create
    )


@router.get("", response_model=PeerGroupPage, summary="Peer-support groups", responses=problem_responses(*AUTH_ERRORS))
async def list_groups(
    principal: CurrentPrincipal,
    ctx: Context,
    cohort: str | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = await ctx.repo.page_groups(
        query={"cohort": cohort} if cohort else {}, limit=limit, cursor=cursor
    )
    return {"items": [await group_view(ctx, g, principal) for g in items], "next_cursor": next_cursor}


async def _group(ctx: Any, group_id: str) -> dict[str, Any]:
    group: dict[str, Any] | None = await ctx.repo.group(group_id=group_id)
    if group is None:
        raise NotFound("no peer group with that id")
    return group


@router.post(
    "/{group_id}/join",
    response_model=PeerGroupOut,
    summary="Join a group of your cohort (a seat, if one is free)",
    description="A group with a cohort admits students of that cohort (the token's `cohort` claim) only; a "
    "group without one is open to every cohort.",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def join(group_id: str, principal: Student, ctx: Context) -> Any:
    group = await _group(ctx, group_id)
    if group.get("cohort") is not None and group["cohort"] != principal.cohort:
        raise Forbidden("this group is for another cohort")
    if await ctx.repo.join_group(group=group, student_id=principal.sub) is False:
        raise Conflict("the group is full")
    return await group_view(ctx, group, principal)


@router.post(
    "/{group_id}/leave",
    response_model=PeerGroupOut,
    summary="Leave a group",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def leave(group_id: str, principal: Student, ctx: Context) -> Any:
    group = await _group(ctx, group_id)
    await ctx.repo.leave_group(group_id=group_id, student_id=principal.sub)
    return await group_view(ctx, group, principal)


@router.put(
    "/placement/me",
    response_model=PlacementOut,
    summary="Let staff place me into a peer group of my cohort, or withdraw that (student)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def set_placement(body: PlacementIn, principal: Student, ctx: Context) -> Any:
    await ctx.repo.set_placement(
        student_id=principal.sub, cohort=principal.cohort, open_to_placement=body.open_to_placement
    )
    return {"open_to_placement": body.open_to_placement, "cohort": principal.cohort}


@router.post(
    "/matching",
    summary="Place students who opted in into their cohort's groups by shared interests (staff)",
    description="Only students who said yes at `PUT /v1/peer-groups/placement/me` for this cohort are placed; "
    "any other id answers `null`, exactly like a student for whom no seat was found.",
    responses={
        200: {"content": {"application/json": {"example": {"placed": {"s1": "g1", "s2": None}}}}},
        **problem_responses(*AUTH_ERRORS),
    },
)
async def place(body: GroupMatchingIn, _: Staff, ctx: Context) -> dict[str, dict[str, str | None]]:
    return {"placed": await match_into_groups(ctx=ctx, cohort=body.cohort, student_ids=body.student_ids)}
