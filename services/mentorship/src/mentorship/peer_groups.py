"""Use cases of peer-support groups: start, list, join, leave, consent to placement, and place students.
Membership is sensitive: who may see the members is decided at the edge from ``GroupWithMembers``."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound
from medsupport_shared.events import utcnow
from medsupport_shared.rate_limits import limit_per_user
from mentorship.context import STAFF, MentorshipContext
from mentorship.domain.peer_groups import group_rank
from mentorship.repository import Document


@dataclass(frozen=True)
class GroupWithMembers:
    group: Document
    members: list[str]


async def _with_members(ctx: MentorshipContext, group: Document) -> GroupWithMembers:
    return GroupWithMembers(group=group, members=await ctx.repo.group_members(group_id=group["_id"]))


async def _group(ctx: MentorshipContext, group_id: str) -> Document:
    group = await ctx.repo.group(group_id=group_id)
    if group is None:
        raise NotFound("no peer group with that id")
    return group


async def start_group(*, ctx: MentorshipContext, principal: Principal, fields: Document) -> GroupWithMembers:
    await limit_per_user(
        ctx.counters,
        scope="peer-group",
        user=principal.sub,
        limit=ctx.settings.peer_groups_per_day,
        window_seconds=86400,
        what="new peer groups",
    )
    fields = dict(fields)
    if not principal.has_any(*STAFF) and fields["cohort"] is None:
        fields["cohort"] = principal.cohort  # a student's group is for their cohort unless they say otherwise
    group = {"_id": uuid.uuid4().hex, **fields, "created_by": principal.sub, "created_at": utcnow()}
    await ctx.repo.insert_group(group=group)
    return await _with_members(ctx, group)


async def list_groups(
    *, ctx: MentorshipContext, cohort: str | None, limit: int | None, cursor: str | None
) -> tuple[list[GroupWithMembers], str | None]:
    items, next_cursor = await ctx.repo.page_groups(cohort=cohort, limit=limit, cursor=cursor)
    return [await _with_members(ctx, group) for group in items], next_cursor


async def join_group(*, ctx: MentorshipContext, principal: Principal, group_id: str) -> GroupWithMembers:
    """A group with a cohort admits students of that cohort only; one without is open to every cohort."""
    group = await _group(ctx, group_id)
    if group.get("cohort") is not None and group["cohort"] != principal.cohort:
        raise Forbidden("this group is for another cohort")
    if await ctx.repo.join_group(group=group, student_id=principal.sub) is False:
        raise Conflict("the group is full")
    return await _with_members(ctx, group)


async def leave_group(*, ctx: MentorshipContext, principal: Principal, group_id: str) -> GroupWithMembers:
    group = await _group(ctx, group_id)
    await ctx.repo.leave_group(group_id=group_id, student_id=principal.sub)
    return await _with_members(ctx, group)


async def set_placement(*, ctx: MentorshipContext, principal: Principal, open_to_placement: bool) -> None:
    await ctx.repo.set_placement(student_id=principal.sub, cohort=principal.cohort, open_to_placement=open_to_placement)


async def match_into_groups(*, ctx: MentorshipContext, cohort: str, student_ids: list[str]) -> dict[str, str | None]:
    """Place students into open groups of their cohort, best shared interests first (greedy by design:
    groups are small and students can move). Only students who opted in to placement for this cohort
    are placed (others: None, never enrolled without their consent); one already in a group of the
    cohort stays there."""
    groups = await ctx.repo.all_groups(cohort=cohort)
    in_cohort = {g["_id"] for g in groups}
    placed: dict[str, str | None] = {}
    for student_id in sorted(set(student_ids)):
        placed[student_id] = None
        consent = await ctx.repo.placement_of(student_id=student_id)
        if consent is None or consent.get("cohort") != cohort:
            continue
        already = sorted(await ctx.repo.groups_of(student_id=student_id) & in_cohort)
        if already:
            placed[student_id] = already[0]
            continue
        preferences = await ctx.repo.mentee(student_id=student_id)
        interests = set(preferences.interests) if preferences else set()
        for group in sorted(groups, key=functools.partial(group_rank, interests)):
            if await ctx.repo.join_group(group=group, student_id=student_id) is not False:
                placed[student_id] = group["_id"]
                break
    return placed
