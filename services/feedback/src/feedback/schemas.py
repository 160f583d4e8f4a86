"""Request and response bodies for feedback, feedback requests, reflections and the cohort view."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, model_validator

from feedback.domain import feedback as rules
from medsupport_shared.inputs import StrictInput


def _not_blank(value: str) -> str:
    cleaned = rules.clean_text(value)
    if cleaned is None:
        raise ValueError("must not be empty")
    return cleaned


def _blank_to_none(value: str | None) -> str | None:
    return rules.clean_text(value)


Label = Annotated[str, Field(min_length=1, max_length=rules.MAX_LABEL_CHARS), AfterValidator(_not_blank)]
OptionalLabel = Annotated[str | None, Field(max_length=rules.MAX_LABEL_CHARS), AfterValidator(_blank_to_none)]
FieldText = Annotated[str, Field(min_length=1, max_length=rules.MAX_FIELD_CHARS), AfterValidator(_not_blank)]
OptionalFieldText = Annotated[str | None, Field(max_length=rules.MAX_FIELD_CHARS), AfterValidator(_blank_to_none)]
OptionalFreeText = Annotated[str | None, Field(max_length=rules.MAX_FREE_TEXT_CHARS), AfterValidator(_blank_to_none)]
ResponseText = Annotated[str | None, Field(max_length=rules.MAX_RESPONSE_CHARS), AfterValidator(_blank_to_none)]
RatingPoint = Annotated[StrictInt, Field(ge=-rules.MAX_RATING_MAGNITUDE, le=rules.MAX_RATING_MAGNITUDE)]
ReflectionText = Annotated[str, Field(min_length=1, max_length=rules.MAX_REFLECTION_CHARS), AfterValidator(_not_blank)]
OptionalReflectionText = Annotated[
    str | None, Field(max_length=rules.MAX_REFLECTION_CHARS), AfterValidator(_blank_to_none)
]


Id = Annotated[str, Field(min_length=1, max_length=rules.MAX_ID_CHARS, pattern=r"^[A-Za-z0-9._:@-]+$")]


class ContextIn(StrictInput):
    kind: rules.ContextKind = Field(examples=["rotation"])
    id: Id = Field(examples=["cardiology-2025-b"])
    label: OptionalLabel = Field(default=None, examples=["Cardiology, block B"])

    def as_rule(self) -> rules.Context:
        return rules.Context(self.kind, self.id)


class ContextOut(BaseModel):
    kind: str
    id: str
    label: str | None = None


class RatingIn(StrictInput):
    scale: Label = Field(examples=["entrustment (1 = observe only ... 5 = may supervise others)"])
    minimum: RatingPoint = Field(examples=[1])
    maximum: RatingPoint = Field(examples=[5])
    value: RatingPoint = Field(examples=[4])

    @model_validator(mode="after")
    def _on_the_scale(self) -> RatingIn:
        problems = rules.check_rating(rules.Rating(self.scale, self.minimum, self.maximum, self.value))
        if problems:
            raise ValueError("; ".join(problems))
        return self


class RatingOut(BaseModel):
    scale: str
    minimum: int
    maximum: int
    value: int


# ------------------------------------------------------------------ feedback


class FeedbackCreate(StrictInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "student_id": "student-42",
                    "context": {"kind": "rotation", "id": "cardiology-2025-b", "label": "Cardiology, block B"},
                    "strengths": "Clear, structured history; put the patient at ease.",
                    "areas_for_growth": "Differential diagnosis stopped at two items.",
                    "next_steps": "Present three differentials at the next ward round.",
                    "rating": {"scale": "entrustment", "minimum": 1, "maximum": 5, "value": 3},
                }
            ]
        },
    )

    student_id: Id = Field(examples=["student-42"])
    context: ContextIn
    strengths: FieldText = Field(examples=["Clear, structured history; put the patient at ease."])
    areas_for_growth: FieldText = Field(examples=["Differential diagnosis stopped at two items."])
    next_steps: OptionalFieldText = Field(
        default=None, examples=["Present three differentials at the next ward round."]
    )
    rating: RatingIn | None = None
    free_text: OptionalFreeText = None
    request_id: Id | None = Field(default=None, description="The feedback request this answers, if any.")


class FeedbackResponseIn(StrictInput):
    discussed: StrictBool = Field(examples=[True])
    response: ResponseText = Field(default=None, examples=["Thank you, I will practise this on my next take."])


class FeedbackOut(BaseModel):
    id: str
    student_id: str
    author_id: str
    author_kind: Literal["faculty", "peer"]
    context: ContextOut
    strengths: str
    areas_for_growth: str
    next_steps: str | None = None
    rating: RatingOut | None = None
    free_text: str | None = None
    request_id: str | None = None
    discussed: bool = False
    discussed_at: datetime | None = None
    response: str | None = None
    responded_at: datetime | None = None
    created_at: datetime


class FeedbackPage(BaseModel):
    items: list[FeedbackOut]
    next_cursor: str | None = None


# ------------------------------------------------------------------ requests


class FeedbackRequestCreate(StrictInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "assessor_id": "dr-khan",
                    "context": {"kind": "encounter", "id": "lp-2025-03-04", "label": "Lumbar puncture, bed 4"},
                    "note": "Observed lumbar puncture, Tuesday morning.",
                }
            ]
        },
    )

    assessor_id: Id = Field(examples=["dr-khan"])
    context: ContextIn
    note: OptionalFieldText = Field(default=None, examples=["Observed lumbar puncture, bed 4, Tuesday morning."])


class FeedbackRequestOut(BaseModel):
    id: str
    student_id: str
    assessor_id: str
    context: ContextOut
    note: str | None = None
    status: Literal["open", "fulfilled", "cancelled"]
    requested_at: datetime
    due_at: datetime
    overdue: bool
    overdue_at: datetime | None = None
    fulfilled_at: datetime | None = None
    feedback_id: str | None = None
    turnaround_seconds: float | None = None
    cancelled_at: datetime | None = None


class FeedbackRequestPage(BaseModel):
    items: list[FeedbackRequestOut]
    next_cursor: str | None = None


# ------------------------------------------------------------------ reflections


class ShareIn(StrictInput):
    relationship: rules.ShareRelationship = Field(examples=["mentor"])


class ShareOut(BaseModel):
    user_id: str
    relationship: str
    shared_at: datetime


class ReflectionCreate(StrictInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "reflection",
                    "title": "First week on the acute take",
                    "body": "I felt rushed when clerking; next time I will ...",
                    "linked_feedback_ids": ["5f0c3e8a9b6d4c2e8f1a7b3c9d0e1f2a"],
                }
            ]
        },
    )

    kind: Literal["reflection", "self_assessment"] = "reflection"
    title: Label = Field(examples=["First week on the acute take"])
    body: ReflectionText = Field(examples=["I felt rushed when clerking; next time I will ..."])
    rating: RatingIn | None = Field(default=None, description="A self-assessment on a stated scale.")
    linked_feedback_ids: list[Id] = Field(default_factory=list, max_length=rules.MAX_LINKED_FEEDBACK)


class ReflectionUpdate(StrictInput):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"body": "Looking back a week later, ...", "linked_feedback_ids": []}]},
    )

    title: OptionalLabel = None
    body: OptionalReflectionText = None
    rating: RatingIn | None = None
    linked_feedback_ids: list[Id] | None = Field(default=None, max_length=rules.MAX_LINKED_FEEDBACK)


class ReflectionOut(BaseModel):
    id: str
    student_id: str
    kind: str
    title: str
    body: str
    rating: RatingOut | None = None
    linked_feedback_ids: list[str]
    shares: list[ShareOut] = Field(description="Visible to the author only.")
    created_at: datetime
    updated_at: datetime


class ReflectionPage(BaseModel):
    items: list[ReflectionOut]
    next_cursor: str | None = None


# ------------------------------------------------------------------ cohort view


class ContextSummaryOut(BaseModel):
    context: str = Field(examples=["rotation:cardiology-2025-b"])
    feedback_count: int
    faculty_feedback_count: int
    peer_feedback_count: int
    students_receiving: int
    authors_giving: int
    requests: int
    requests_fulfilled: int
    requests_overdue: int
    median_turnaround_hours: float | None


class CohortSummaryOut(BaseModel):
    contexts: list[ContextSummaryOut]
    suppressed_contexts: int = Field(description="Contexts with fewer students than min_group_size (not shown).")
    min_group_size: int
