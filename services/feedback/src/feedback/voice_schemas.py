"""Bodies of the student-voice routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StrictBool, model_validator

from feedback.domain.voice import SuggestionStatus
from feedback.schemas import Label, _blank_to_none, _not_blank
from medsupport_shared.inputs import StrictInput

Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_not_blank)]
Body = Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(_not_blank)]
StaffText = Annotated[str | None, Field(max_length=5000), AfterValidator(_blank_to_none)]


class SuggestionCreate(StrictInput):
    programme: Label = Field(examples=["MBBS 2027"])
    title: Title = Field(examples=["Protected teaching time on surgical rotations"])
    body: Body = Field(examples=["Teaching is often cancelled for theatre lists; could one session a week be kept?"])
    anonymous: StrictBool = Field(
        default=False, examples=[True], description="true: no author is stored; you follow it on the board"
    )


class SuggestionMove(StrictInput):
    status: SuggestionStatus = Field(examples=["planned"])
    response: StaffText = Field(default=None, examples=["From block 4, Thursday 2-4 pm is protected teaching."])
    reason: StaffText = Field(default=None, examples=[None], description="required to decline; students read it")

    @model_validator(mode="after")
    def _reason_only_to_decline(self) -> SuggestionMove:
        if self.reason is not None and self.status is not SuggestionStatus.DECLINED:
            raise ValueError("a reason is given only when declining")
        return self


class SuggestionOut(BaseModel):
    id: str
    programme: str
    title: str
    body: str
    anonymous: bool
    author_id: str | None = None
    status: SuggestionStatus
    response: str | None = None
    decline_reason: str | None = None
    votes: int
    created_at: datetime
    updated_at: datetime


class SuggestionPage(BaseModel):
    items: list[SuggestionOut]
    next_cursor: str | None = None


class VoteOut(BaseModel):
    id: str
    votes: int
    voted: bool
