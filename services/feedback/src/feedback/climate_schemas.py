"""Request and response bodies of the climate pulse: rosters, anonymous answers, released results."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from feedback.domain.climate import DEFAULT_PULSE, ClimateInstrument
from feedback.schemas import Id, Label
from medsupport_shared.inputs import StrictInput

InstrumentCode = Annotated[str, Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
MAX_ROSTER = 2000


class ClimateInstrumentPage(BaseModel):
    items: list[ClimateInstrument]
    next_cursor: str | None = None


class RotationIn(StrictInput):
    """The institution's facts about a rotation (from its own systems; replaced whole on each PUT)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "site": "St Mary's Hospital",
                    "specialty": "general surgery",
                    "period": "2026-block-3",
                    "end_date": "2026-03-27",
                    "student_ids": ["s-1042", "s-1043", "s-1050"],
                    "grades_final": False,
                    "director_id": "f-77",
                }
            ]
        },
    )

    site: Label = Field(examples=["St Mary's Hospital"])
    specialty: Label = Field(examples=["general surgery"])
    period: Label = Field(examples=["2026-block-3"], description="the institution's label of the teaching period")
    end_date: date = Field(
        examples=["2026-03-27"],
        ge=date(2000, 1, 1),
        le=date(2200, 12, 31),
        description="the pulse opens on this day (UTC)",
    )
    student_ids: list[Id] = Field(max_length=MAX_ROSTER, examples=[["s-1042", "s-1043", "s-1050"]])
    grades_final: StrictBool = Field(default=False, description="results are released only once this is true")
    director_id: Id | None = Field(default=None, examples=["f-77"], description="the site's clerkship director")
    instrument: InstrumentCode | None = Field(default=None, description="an instrument code; default the setting's")


class RotationOut(BaseModel):
    id: str
    site: str
    specialty: str
    period: str
    end_date: date
    students: int = Field(description="how many students are on the roster")
    invited: int
    grades_final: bool
    director_id: str | None = None
    instrument: str
    opens_at: datetime
    closes_at: datetime
    released: bool = Field(description="grades final and the answer window closed (figures still need enough answers)")


ROTATION_EXAMPLE = {
    "id": "surg-stmarys-2026-b3",
    "site": "St Mary's Hospital",
    "specialty": "general surgery",
    "period": "2026-block-3",
    "end_date": "2026-03-27",
    "students": 12,
    "invited": 12,
    "grades_final": False,
    "director_id": "f-77",
    "instrument": DEFAULT_PULSE.code,
    "opens_at": "2026-03-27T00:00:00Z",
    "closes_at": "2026-04-10T00:00:00Z",
    "released": False,
}


class ClimateAnswersIn(StrictInput):
    answers: dict[Annotated[str, Field(max_length=60)], StrictInt] = Field(
        max_length=60,
        examples=[{item.id: (4 if item.option_set == "agreement" else 0) for item in DEFAULT_PULSE.items}],
        description="item id -> option value, every item of the rotation's instrument",
    )


class ClimateAnswerAccepted(BaseModel):
    rotation_id: str
    accepted: bool = True
    anonymous: bool = Field(default=True, description="stored without identity; this reply carries no answer id")


class InvitationOut(BaseModel):
    rotation_id: str
    site: str
    specialty: str
    period: str
    instrument: str
    closes_at: datetime
    answered: bool


class InvitationPage(BaseModel):
    items: list[InvitationOut]
    next_cursor: str | None = None


class ItemDistribution(BaseModel):
    counts: dict[str, int] = Field(description="option value -> answers, only counts of at least the minimum group")
    suppressed: int = Field(description="answers in options hidden because too few chose them")


class SubscaleResult(BaseModel):
    mean: float | None
    items: dict[str, ItemDistribution]


class TrendPoint(BaseModel):
    period: str
    responses: int
    means: dict[str, float]
    change: dict[str, float] = Field(description="against the previous period shown")


class ClimateGroup(BaseModel):
    key: str
    rotations: int
    responses: int
    subscales: dict[str, SubscaleResult]
    trend: list[TrendPoint]
    concerns: dict[str, StrictInt | None] | None = Field(
        default=None,
        description="site groups: mistreatment, discrimination and bias reports about the site in the months "
        "asked for (counts only; a month with fewer than the minimum of a category adds nothing; null if none shown)",
    )


class ClimateResults(BaseModel):
    instrument: str
    group_by: str
    min_group_size: int
    groups: list[ClimateGroup]
