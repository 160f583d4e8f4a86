"""Profiles through the use cases on the in-memory repository, and the reply built from them: a field that
was never stored takes the reply's default, exactly as when the reply was built from the raw document."""

from __future__ import annotations

import pytest

from medsupport_shared.domain_errors import NotFound
from mentorship import profiles
from mentorship.api_profiles import mentor_view
from mentorship.domain.profiles import MenteePreferences, MentorProfile
from mentorship.schemas import MenteePreferencesOut, MentorProfileOut

from ..fakes import fake_context


async def test_a_reply_shows_what_was_stored_and_the_defaults_for_what_was_not() -> None:
    ctx, repo, _ = fake_context()
    repo.add_mentor("m-old", name="Dr Old", languages=["en"], capacity=2, background="rural")
    profile, load = await profiles.mentor_profile(ctx=ctx, mentor_id="m-old")
    reply = MentorProfileOut.model_validate(mentor_view(profile, load, show_background=False))
    assert reply.formats == ["in-person", "video"] and reply.name == "Dr Old" and reply.background is None
    assert (reply.id, reply.capacity, reply.active_mentees) == ("m-old", 2, 0)
    with pytest.raises(NotFound, match="create it with PUT /v1/mentors/me"):
        await profiles.my_mentor_profile(ctx=ctx, mentor_id="m-new")


async def test_a_profile_and_preferences_are_saved_whole() -> None:
    ctx, repo, _ = fake_context()
    saved, load = await profiles.save_mentor_profile(
        ctx=ctx, profile=MentorProfile(id="m1", languages=["en"], capacity=1, formats=["chat"])
    )
    assert (saved.formats, load) == (["chat"], 0) and repo.mentors["m1"]["created_at"] is not None
    [(listed, _)], cursor = await profiles.list_mentors(ctx=ctx, limit=50, cursor=None)
    assert listed == saved and cursor is None
    with pytest.raises(NotFound, match="no preferences recorded yet"):
        await profiles.preferences_of(ctx=ctx, student_id="s1")
    await profiles.save_preferences(ctx=ctx, preferences=MenteePreferences(id="s1", languages=["fr"], cohort="2027"))
    mine = await profiles.preferences_of(ctx=ctx, student_id="s1")
    assert MenteePreferencesOut.model_validate(mine.model_dump(exclude_unset=True)).languages == ["fr"]
    assert repo.mentees["s1"]["cohort"] == "2027"
