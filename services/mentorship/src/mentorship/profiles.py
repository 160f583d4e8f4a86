"""Use cases of profiles: mentors' profiles (with how many mentees each has now) and students' preferences."""

from __future__ import annotations

from medsupport_shared.domain_errors import NotFound
from medsupport_shared.events import utcnow
from mentorship.context import MentorshipContext
from mentorship.repository import Document

MentorWithLoad = tuple[Document, int]
"""A stored mentor profile and the number of the mentor's active mentees."""


async def list_mentors(
    *, ctx: MentorshipContext, limit: int | None, cursor: str | None
) -> tuple[list[MentorWithLoad], str | None]:
    items, next_cursor = await ctx.repo.page_mentors(limit=limit, cursor=cursor)
    load = await ctx.repo.active_load()
    return [(doc, load.get(doc["_id"], 0)) for doc in items], next_cursor


async def mentor_profile(*, ctx: MentorshipContext, mentor_id: str) -> MentorWithLoad:
    return await _profile(ctx, mentor_id, missing="no mentor with that id")


async def my_mentor_profile(*, ctx: MentorshipContext, mentor_id: str) -> MentorWithLoad:
    return await _profile(ctx, mentor_id, missing="you have no mentor profile yet; create it with PUT /v1/mentors/me")


async def _profile(ctx: MentorshipContext, mentor_id: str, *, missing: str) -> MentorWithLoad:
    doc = await ctx.repo.mentor(mentor_id=mentor_id)
    if doc is None:
        raise NotFound(missing)
    return doc, (await ctx.repo.active_load()).get(mentor_id, 0)


async def save_mentor_profile(*, ctx: MentorshipContext, mentor_id: str, profile: Document) -> MentorWithLoad:
    """Create or replace the profile's fields; answers the profile as given (with ``_id``)."""
    await ctx.repo.save_mentor(mentor_id=mentor_id, profile={**profile, "created_at": utcnow()})
    return {"_id": mentor_id, **profile}, (await ctx.repo.active_load()).get(mentor_id, 0)


async def preferences_of(*, ctx: MentorshipContext, student_id: str) -> Document:
    doc = await ctx.repo.mentee(student_id=student_id)
    if doc is None:
        raise NotFound("no preferences recorded yet")
    return doc


async def save_preferences(
    *, ctx: MentorshipContext, student_id: str, cohort: str | None, preferences: Document
) -> None:
    await ctx.repo.save_mentee(
        student_id=student_id, preferences={**preferences, "cohort": cohort, "created_at": utcnow()}
    )
