"""Request and response models of the mentorship API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from medsupport_shared.events import utcnow
from medsupport_shared.inputs import StrictInput, UtcInstant
from mentorship import examples

Format = Literal["in-person", "video", "phone", "chat"]
Id = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S+$")]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Language = Annotated[
    str,
    StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$"),
    Field(description="a BCP 47 language tag such as en, fr or pt-br (compared in lower case)"),
]
CLOCK_SKEW = timedelta(minutes=5)


def _not_in_the_future(value: datetime) -> datetime:
    if value > utcnow() + CLOCK_SKEW:
        raise ValueError("a meeting cannot be logged before it has happened")
    return value


def _default_formats() -> list[Format]:
    return ["in-person", "video"]


class MentorProfileIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.MENTOR_PROFILE]})
    name: str | None = Field(default=None, max_length=200)
    specialty: str | None = Field(default=None, max_length=100)
    interests: list[Tag] = Field(default_factory=list, max_length=20)
    languages: list[Language] = Field(min_length=1, max_length=10)
    formats: list[Format] = Field(default_factory=_default_formats, min_length=1)
    capacity: StrictInt = Field(ge=0, le=50, description="the most mentees at once")
    availability: str | None = Field(default=None, max_length=500)
    background: str | None = Field(
        default=None, max_length=200, description="optional, self-described; used only for students who ask for it"
    )
    paused: StrictBool = Field(default=False, description="a paused mentor gets no new mentees")


class MentorProfileOut(MentorProfileIn):
    """Replies are lenient: a profile stored under older, looser rules is still shown, never a 500."""

    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [examples.MENTOR]})
    id: str
    interests: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    capacity: int = 0
    paused: bool = False
    active_mentees: int = 0


class MentorPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.MENTOR_PAGE]})
    items: list[MentorProfileOut]
    next_cursor: str | None


class MenteePreferencesIn(StrictInput):
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
    interests: list[Tag] = Field(default_factory=list, max_length=20)
    languages: list[Language] = Field(min_length=1, max_length=10)
    meeting_format: Format | None = None
    background: str | None = Field(default=None, max_length=200)
    wants_shared_background: StrictBool = False
    avoid: list[Id] = Field(default_factory=list, max_length=50, description="mentor ids never to be matched with")


class MenteePreferencesOut(MenteePreferencesIn):
    model_config = ConfigDict(extra="ignore")
    interests: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    wants_shared_background: bool = False
    avoid: list[str] = Field(default_factory=list)


class MatchingRunIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"dry_run": True}, {"student_id": "student-42"}]})
    student_id: Id | None = Field(default=None, description="match only this student (on demand)")
    dry_run: StrictBool = Field(default=False, description="propose without assigning")


class ProposedMatch(BaseModel):
    mentee_id: str
    mentor_id: str
    score: float
    criteria: dict[str, float] = Field(description="which criteria scored, and how much")
    assignment_id: str | None


class MatchingRunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.MATCHING_RUN]})
    id: str
    dry_run: bool
    student_id: str | None
    created_at: datetime
    matches: list[ProposedMatch]
    unmatched: list[str]
    total_score: float


class AssignmentIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"mentor_id": "mentor-mo", "mentee_id": "student-42"}]})
    mentor_id: Id
    mentee_id: Id


class AssignmentOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ASSIGNMENT]})
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
    model_config = ConfigDict(json_schema_extra={"examples": [examples.ASSIGNMENT_PAGE]})
    items: list[AssignmentOut]
    next_cursor: str | None


class EndAssignmentIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "our schedules no longer fit"}]})
    reason: str | None = Field(default=None, max_length=2000, description="kept private to admins")


class MeetingIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": "talked about research electives"}
            ]
        }
    )
    met_at: Annotated[UtcInstant, AfterValidator(_not_in_the_future)]
    format: Format
    notes: str | None = Field(default=None, max_length=4000, description="private to you, encrypted at rest")


class MeetingOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.MEETING]})
    id: str
    assignment_id: str
    met_at: datetime
    format: str
    logged_by: str
    my_notes: str | None


class MeetingPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.MEETING_PAGE]})
    items: list[MeetingOut]
    next_cursor: str | None


class PeerGroupIn(StrictInput):
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
    interests: list[Tag] = Field(default_factory=list, max_length=20)
    size_limit: StrictInt = Field(ge=2, le=50)
    facilitator_id: Id | None = None


class PeerGroupOut(PeerGroupIn):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [examples.PEER_GROUP]})
    id: str
    interests: list[str] = Field(default_factory=list)
    size_limit: int
    facilitator_id: str | None = None
    members: list[str] | None = Field(default=None, description="shown to the group's members and facilitator only")
    seats_free: int = Field(default=0, description="seats left; shown to everyone (a count, no names)")


class PeerGroupPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.PEER_GROUP_PAGE]})
    items: list[PeerGroupOut]
    next_cursor: str | None


class PlacementIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"open_to_placement": True}]})
    open_to_placement: StrictBool = Field(
        description="let staff place me into a peer group of my cohort (`POST /v1/peer-groups/matching`)"
    )


class PlacementOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"open_to_placement": True, "cohort": "2027"}]})
    open_to_placement: bool
    cohort: str | None


class GroupMatchingIn(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cohort": "2027", "student_ids": ["s1", "s2"]}]})
    cohort: str = Field(min_length=1, max_length=20)
    student_ids: list[Id] = Field(min_length=1, max_length=500)
