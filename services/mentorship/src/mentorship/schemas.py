"""Request and response models of the mentorship API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Format = Literal["in-person", "video", "phone", "chat"]


def _default_formats() -> list[Format]:
    return ["in-person", "video"]


class MentorProfileIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Dr Mo Haddad",
                    "specialty": "internal medicine",
                    "interests": ["research", "global health"],
                    "languages": ["en", "ar"],
                    "formats": ["video", "in-person"],
                    "capacity": 4,
                    "availability": "Tuesday evenings",
                    "background": "first-generation student",
                    "paused": False,
                }
            ]
        }
    )
    name: str | None = Field(default=None, max_length=200)
    specialty: str | None = Field(default=None, max_length=100)
    interests: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(min_length=1, max_length=10)
    formats: list[Format] = Field(default_factory=_default_formats)
    capacity: int = Field(ge=0, le=50, description="the most mentees at once")
    availability: str | None = Field(default=None, max_length=500)
    background: str | None = Field(
        default=None, max_length=200, description="optional, self-described; used only for students who ask for it"
    )
    paused: bool = Field(default=False, description="a paused mentor gets no new mentees")


class MentorProfileOut(MentorProfileIn):
    id: str
    active_mentees: int = 0


class MentorPage(BaseModel):
    items: list[MentorProfileOut]
    next_cursor: str | None


class MenteePreferencesIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "specialty": "internal medicine",
                    "interests": ["research"],
                    "languages": ["en"],
                    "meeting_format": "video",
                    "background": "first-generation student",
                    "wants_shared_background": True,
                    "avoid": [],
                }
            ]
        }
    )
    specialty: str | None = Field(default=None, max_length=100)
    interests: list[str] = Field(default_factory=list, max_length=20)
    languages: list[str] = Field(min_length=1, max_length=10)
    meeting_format: Format | None = None
    background: str | None = Field(default=None, max_length=200)
    wants_shared_background: bool = False
    avoid: list[str] = Field(default_factory=list, max_length=50, description="mentor ids never to be matched with")


class MatchingRunIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dry_run": True}, {"student_id": "student-42"}]})
    student_id: str | None = Field(default=None, description="match only this student (on demand)")
    dry_run: bool = Field(default=False, description="propose without assigning")


class ProposedMatch(BaseModel):
    mentee_id: str
    mentor_id: str
    score: float
    criteria: dict[str, float] = Field(description="which criteria scored, and how much")
    assignment_id: str | None


class MatchingRunOut(BaseModel):
    id: str
    dry_run: bool
    student_id: str | None
    created_at: datetime
    matches: list[ProposedMatch]
    unmatched: list[str]
    total_score: float


class AssignmentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"mentor_id": "mentor-mo", "mentee_id": "student-42"}]})
    mentor_id: str = Field(min_length=1)
    mentee_id: str = Field(min_length=1)


class AssignmentOut(BaseModel):
    id: str
    mentor_id: str
    mentee_id: str
    status: Literal["active", "ended"]
    how: str
    score: float
    criteria: dict[str, float]
    assigned_at: datetime
    last_meeting_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    end_reason: str | None = Field(default=None, description="admins only")


class AssignmentPage(BaseModel):
    items: list[AssignmentOut]
    next_cursor: str | None


class EndAssignmentIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "our schedules no longer fit"}]})
    reason: str | None = Field(default=None, max_length=2000, description="kept private to admins")


class MeetingIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": "talked about research electives"}
            ]
        }
    )
    met_at: datetime
    format: Format
    notes: str | None = Field(default=None, max_length=4000, description="private to you, encrypted at rest")


class MeetingOut(BaseModel):
    id: str
    assignment_id: str
    met_at: datetime
    format: str
    logged_by: str
    my_notes: str | None


class MeetingPage(BaseModel):
    items: list[MeetingOut]
    next_cursor: str | None


class PeerGroupIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Year-2 study and support circle",
                    "cohort": "2027",
                    "interests": ["exam prep", "wellbeing"],
                    "size_limit": 8,
                    "facilitator_id": "mentor-mo",
                }
            ]
        }
    )
    name: str = Field(min_length=1, max_length=200)
    cohort: str | None = Field(default=None, max_length=20)
    interests: list[str] = Field(default_factory=list, max_length=20)
    size_limit: int = Field(ge=2, le=50)
    facilitator_id: str | None = None


class PeerGroupOut(PeerGroupIn):
    id: str
    created_by: str | None = Field(description="None once the student who started it had their data erased")
    members: list[str] | None = Field(default=None, description="shown to members, the facilitator and staff")


class PeerGroupPage(BaseModel):
    items: list[PeerGroupOut]
    next_cursor: str | None


class GroupMatchingIn(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cohort": "2027", "student_ids": ["s1", "s2"]}]})
    cohort: str
    student_ids: list[str] = Field(min_length=1, max_length=500)
