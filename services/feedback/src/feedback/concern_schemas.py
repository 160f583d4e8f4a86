"""Bodies of the concern routes. The reporter's view never names officers; the officer's view of an
anonymous report has no reporter field because there is no reporter identity to show."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, model_validator

from feedback.domain import concerns as rules
from feedback.schemas import _blank_to_none, _not_blank
from medsupport_shared.inputs import StrictInput

Description = Annotated[str, Field(min_length=1, max_length=rules.MAX_DESCRIPTION_CHARS), AfterValidator(_not_blank)]
When = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
Where = Annotated[str, Field(min_length=1, max_length=rules.MAX_WHERE_CHARS), AfterValidator(_not_blank)]
People = Annotated[str | None, Field(max_length=rules.MAX_PEOPLE_CHARS), AfterValidator(_blank_to_none)]
Message = Annotated[str, Field(min_length=1, max_length=rules.MAX_MESSAGE_CHARS), AfterValidator(_not_blank)]
Outcome = Annotated[str | None, Field(max_length=rules.MAX_OUTCOME_CHARS), AfterValidator(_blank_to_none)]
Site = Annotated[str | None, Field(max_length=200), AfterValidator(_blank_to_none)]
Code = Annotated[str, Field(min_length=1, max_length=64, examples=["K7QX-M2HD-9WTR-CF4N"])]


class ConcernCreate(StrictInput):
    category: rules.ConcernCategory = Field(examples=["mistreatment"])
    description: Description = Field(
        examples=["During the ward round the registrar shouted at me in front of patients."]
    )
    when: When = Field(examples=["Tuesday 4 March, morning ward round"])
    where: Where = Field(examples=["Ward 7B, general surgery"])
    people_involved: People = Field(default=None, examples=["A surgical registrar"])
    site: Site = Field(
        default=None,
        examples=["St Mary's Hospital"],
        description="optional: the clinical site as rotations name it; leaders see only counts per site and "
        "month of mistreatment, discrimination and bias reports, and only months with at least the minimum group",
    )
    anonymous: StrictBool = Field(
        examples=[True],
        description="true: no identity is stored anywhere and no token is read; keep the follow-up code. "
        "false: a bearer token is required and the report is visible to you.",
    )


class ConcernCreated(BaseModel):
    id: str
    anonymous: bool
    status: rules.ConcernStatus
    reported_at: datetime
    follow_up_code: str | None = Field(
        default=None,
        description="Anonymous reports only, shown once: the only way to read the status and answer the "
        "concerns officer. It is not stored and cannot be recovered.",
        examples=["K7QX-M2HD-9WTR-CF4N"],
    )


class FollowUpIn(StrictInput):
    code: Code


class FollowUpMessageIn(StrictInput):
    code: Code
    message: Message = Field(examples=["It happened again on Thursday."])


class MessageIn(StrictInput):
    message: Message = Field(examples=["Could you tell us which day of the week this was?"])


class TriageIn(StrictInput):
    status: rules.ConcernStatus | None = Field(default=None, examples=["under_review"])
    outcome: Outcome = Field(
        default=None, description="Readable by the reporter.", examples=["The department has met the registrar."]
    )

    @model_validator(mode="after")
    def _something_to_do(self) -> TriageIn:
        if self.status is None and self.outcome is None:
            raise ValueError("give a status, an outcome, or both")
        return self


class MessageOut(BaseModel):
    sender: Literal["officer", "reporter"] = Field(alias="from")
    body: str
    at: datetime

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ReporterConcernView(BaseModel):
    id: str
    category: rules.ConcernCategory
    anonymous: bool
    status: rules.ConcernStatus
    reported_at: datetime
    updated_at: datetime
    description: str
    when: str
    where: str
    people_involved: str | None = None
    outcome: str | None = None
    messages: list[MessageOut]


class HistoryOut(BaseModel):
    status: rules.ConcernStatus
    at: datetime
    by: str | None = None


class OfficerMessageOut(MessageOut):
    officer_id: str | None = None


class OfficerConcernView(BaseModel):
    id: str
    category: rules.ConcernCategory
    anonymous: bool
    reporter_id: str | None = Field(default=None, description="Named reports only; anonymous reports have none.")
    status: rules.ConcernStatus
    reported_at: datetime
    updated_at: datetime
    description: str
    when: str
    where: str
    people_involved: str | None = None
    outcome: str | None = None
    messages: list[OfficerMessageOut]
    history: list[HistoryOut]
    surge: bool = Field(
        default=False,
        description="Sent while anonymous reports from everyone passed the surge threshold (a possible flood)",
    )


class OfficerConcernPage(BaseModel):
    items: list[OfficerConcernView]
    next_cursor: str | None = None


class ReporterConcernPage(BaseModel):
    items: list[ReporterConcernView]
    next_cursor: str | None = None
