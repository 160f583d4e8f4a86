"""Mentors' profiles and students' mentoring preferences, as stored.

Reads are lenient (a profile stored under older, looser rules is still read; the request models hold the
strict rules for new input) and a field that was never stored stays unset, so a reply shows what was
stored and the rules read the same defaults as before."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from mentorship.domain.matching import Mentee, Mentor


class MentorProfile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    name: str | None = None
    specialty: str | None = None
    interests: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    formats: list[str] = Field(default_factory=list)
    capacity: int = 0
    availability: str | None = None
    background: str | None = None
    paused: bool | None = False


class MenteePreferences(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    specialty: str | None = None
    interests: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    meeting_format: str | None = None
    background: str | None = None
    wants_shared_background: bool | None = False
    avoid: list[str] = Field(default_factory=list)
    cohort: str | None = None


def as_mentor(profile: MentorProfile, load: int) -> Mentor:
    """The mentor as matching sees them: free slots are the capacity minus the current mentees."""
    return Mentor(
        id=profile.id,
        specialty=profile.specialty,
        interests=frozenset(profile.interests),
        languages=frozenset(profile.languages),
        formats=frozenset(profile.formats),
        background=profile.background,
        paused=bool(profile.paused),
        free_slots=max(0, profile.capacity - load),
    )


def as_mentee(preferences: MenteePreferences, flagged: bool) -> Mentee:
    return Mentee(
        id=preferences.id,
        specialty=preferences.specialty,
        interests=frozenset(preferences.interests),
        languages=frozenset(preferences.languages),
        meeting_format=preferences.meeting_format,
        background=preferences.background,
        wants_shared_background=bool(preferences.wants_shared_background),
        avoid=frozenset(preferences.avoid),
        flagged=flagged,
    )
