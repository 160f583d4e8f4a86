"""Routes: mentor profiles and students' mentoring preferences."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from medsupport_shared.auth import CurrentPrincipal, Principal, Role
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.inputs import PageCursor, PageLimit
from mentorship import profiles
from mentorship.context import Admin, Context, MentorRole, Student
from mentorship.domain.profiles import MenteePreferences, MentorProfile
from mentorship.schemas import (
    MenteePreferencesIn,
    MenteePreferencesOut,
    MentorPage,
    MentorProfileIn,
    MentorProfileOut,
)

router = APIRouter(prefix="/v1", tags=["mentorship"])


def mentor_view(profile: MentorProfile, load: int, *, show_background: bool) -> dict[str, Any]:
    """What was stored (a field never stored takes the reply's default); a mentor's self-described
    background is shown to themselves and admins only."""
    view = {**profile.model_dump(exclude_unset=True), "id": profile.id, "active_mentees": load}
    if not show_background:
        view["background"] = None
    return view


def _sees_background(principal: Principal, mentor_id: str) -> bool:
    return Role.ADMIN in principal.roles or mentor_id == principal.sub


@router.get("/mentors", response_model=MentorPage, summary="Mentor profiles", responses=problem_responses(*AUTH_ERRORS))
async def list_mentors(
    principal: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    items, next_cursor = await profiles.list_mentors(ctx=ctx, limit=limit, cursor=cursor)
    return {
        "items": [mentor_view(p, load, show_background=_sees_background(principal, p.id)) for p, load in items],
        "next_cursor": next_cursor,
    }


@router.get(
    "/mentors/me",
    response_model=MentorProfileOut,
    summary="My mentor profile",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_my_profile(principal: MentorRole, ctx: Context) -> Any:
    profile, load = await profiles.my_mentor_profile(ctx=ctx, mentor_id=principal.sub)
    return mentor_view(profile, load, show_background=True)


@router.get(
    "/mentors/{mentor_id}",
    response_model=MentorProfileOut,
    summary="One mentor profile",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_mentor(mentor_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    profile, load = await profiles.mentor_profile(ctx=ctx, mentor_id=mentor_id)
    return mentor_view(profile, load, show_background=_sees_background(principal, mentor_id))


@router.put(
    "/mentors/me",
    response_model=MentorProfileOut,
    summary="Create or edit my mentor profile",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_my_profile(body: MentorProfileIn, principal: MentorRole, ctx: Context) -> Any:
    profile = MentorProfile(id=principal.sub, **body.model_dump())
    saved, load = await profiles.save_mentor_profile(ctx=ctx, profile=profile)
    return mentor_view(saved, load, show_background=True)


@router.put(
    "/mentors/{mentor_id}",
    response_model=MentorProfileOut,
    summary="Edit a mentor profile (admin)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_profile(mentor_id: str, body: MentorProfileIn, _: Admin, ctx: Context) -> Any:
    profile = MentorProfile(id=mentor_id, **body.model_dump())
    saved, load = await profiles.save_mentor_profile(ctx=ctx, profile=profile)
    return mentor_view(saved, load, show_background=True)


@router.get(
    "/mentees/me",
    response_model=MenteePreferencesOut,
    summary="My mentoring preferences",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_preferences(principal: Student, ctx: Context) -> Any:
    preferences = await profiles.preferences_of(ctx=ctx, student_id=principal.sub)
    return preferences.model_dump(exclude_unset=True)


@router.put(
    "/mentees/me",
    response_model=MenteePreferencesOut,
    summary="Ask for a mentor, with my preferences",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_preferences(body: MenteePreferencesIn, principal: Student, ctx: Context) -> Any:
    preferences = MenteePreferences(id=principal.sub, cohort=principal.cohort, **body.model_dump())
    await profiles.save_preferences(ctx=ctx, preferences=preferences)
    return body
