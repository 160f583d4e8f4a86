"""Use cases of profiles: mentors' profiles (with how many mentees each has now) and students' preferences."""

from __future__ import annotations

from medsupport_shared.domain_errors import NotFound
from medsupport_shared.events import utcnow
from mentorship.context import MentorshipContext
from mentorship.domain.profiles import MenteePreferences, MentorProfile

MentorWithLoad = tuple[MentorProfile, int]
"""A mentor's profile and the number of the mentor's active mentees."""


async def list_mentors(
    *, ctx: MentorshipContext, limit: int | None, cursor: str | None
) -> tuple[list[MentorWithLoad], str | None]:
    items, next_cursor = await ctx.repo.page_mentors(limit=limit, cursor=cursor)
    load = await ctx.repo.active_load()
    return [(profile, load.get(profile.id, 0)) for profile in items], next_cursor


async def mentor_profile(*, ctx: MentorshipContext, mentor_id: str) -> MentorWithLoad:
    return await _profile(ctx, mentor_id, missing="no mentor with that id")


async def my_mentor_profile(*, ctx: MentorshipContext, mentor_id: str) -> MentorWithLoad:
    return await _profile(ctx, mentor_id, missing="you have no mentor profile yet; create it with PUT /v1/mentors/me")


async def _profile(ctx: MentorshipContext, mentor_id: str, *, missing: str) -> MentorWithLoad:
    profile = await ctx.repo.mentor(mentor_id=mentor_id)
    if profile is None:
        raise NotFound(missing)
    return profile, (await ctx.repo.active_load()).get(mentor_id, 0)


async def save_mentor_profile(*, ctx: MentorshipContext, profile: MentorProfile) -> MentorWithLoad:
    """Create or replace every field of the profile."""
    await ctx.repo.save_mentor(profile=profile, at=utcnow())
    return profile, (await ctx.repo.active_load()).get(profile.id, 0)


async def preferences_of(*, ctx: MentorshipContext, student_id: str) -> MenteePreferences:
    preferences = await ctx.repo.mentee(student_id=student_id)
    if preferences is None:
        raise NotFound("no preferences recorded yet")
    return preferences


async def save_preferences(*, ctx: MentorshipContext, preferences: MenteePreferences) -> None:
    await ctx.repo.save_mentee(preferences=preferences, at=utcnow())
