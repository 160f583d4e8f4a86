"""Routes for peer-support groups. Membership of a support group is sensitive: the members are shown
to the group's members and facilitator only, who started a group is never shown, a student joins only
a group of their own cohort (or one open to every cohort), and staff place only students who opted in."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from medsupport_shared.auth import CurrentPrincipal, Principal
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from mentorship import peer_groups
from mentorship.context import Context, GroupCreator, Staff, Student
from mentorship.peer_groups import GroupWithMembers
from mentorship.schemas import GroupMatchingIn, PeerGroupIn, PeerGroupOut, PeerGroupPage, PlacementIn, PlacementOut

router = APIRouter(prefix="/v1/peer-groups", tags=["peer groups"])


HIDDEN = ("_id", "created_by", "created_at")


def group_view(seen: GroupWithMembers, principal: Principal) -> dict[str, Any]:
    group, members = seen.group, seen.members
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
    body: PeerGroupIn, principal: GroupCreator, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        started = await peer_groups.start_group(ctx=ctx, principal=principal, fields=body.model_dump())
        return PeerGroupOut.model_validate(group_view(started, principal)).model_dump(mode="json")

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
    items, next_cursor = await peer_groups.list_groups(ctx=ctx, cohort=cohort, limit=limit, cursor=cursor)
    return {"items": [group_view(g, principal) for g in items], "next_cursor": next_cursor}


@router.post(
    "/{group_id}/join",
    response_model=PeerGroupOut,
    summary="Join a group of your cohort (a seat, if one is free)",
    description="A group with a cohort admits students of that cohort (the token's `cohort` claim) only; a "
    "group without one is open to every cohort.",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def join(group_id: str, principal: Student, ctx: Context) -> Any:
    return group_view(await peer_groups.join_group(ctx=ctx, principal=principal, group_id=group_id), principal)


@router.post(
    "/{group_id}/leave",
    response_model=PeerGroupOut,
    summary="Leave a group",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def leave(group_id: str, principal: Student, ctx: Context) -> Any:
    return group_view(await peer_groups.leave_group(ctx=ctx, principal=principal, group_id=group_id), principal)


@router.put(
    "/placement/me",
    response_model=PlacementOut,
    summary="Let staff place me into a peer group of my cohort, or withdraw that (student)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def set_placement(body: PlacementIn, principal: Student, ctx: Context) -> Any:
    await peer_groups.set_placement(ctx=ctx, principal=principal, open_to_placement=body.open_to_placement)
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
    return {"placed": await peer_groups.match_into_groups(ctx=ctx, cohort=body.cohort, student_ids=body.student_ids)}
