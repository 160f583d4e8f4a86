"""Request and response models of the wellbeing API (with examples for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from medsupport_shared.errors import ProblemDetail
from medsupport_shared.inputs import StrictInput
from wellbeing import examples
from wellbeing.domain.instruments import INSTRUMENTS, Instrument
from wellbeing.resource_schemas import ResourceOut
from wellbeing.settings import CrisisResource


class CheckinCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"instrument": "phq9", "answers": [1, 1, 0, 2, 1, 0, 1, 0, 0], "note": "exam week"}]
        }
    )
    instrument: str = Field(min_length=1, max_length=20, description="an instrument code from /v1/instruments")
    answers: list[StrictInt] = Field(
        min_length=1,
        max_length=20,
        description='one option value per item, in order; JSON integers only (`true`, `"2"` or `2.0` are '
        "rejected with 422, never coerced)",
    )
    note: str | None = Field(default=None, max_length=4000, description="private; encrypted at rest")


class CheckinResult(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CHECKIN_RESULT]})
    id: str
    instrument: str
    score: int = Field(description="the instrument's total as published (WHO-5: raw 0–25)")
    percentage: int | None = Field(default=None, description="WHO-5 only: raw × 4")
    band: str
    severity: Literal["none", "elevated", "urgent"]
    reasons: list[str]
    stored: bool = Field(description="false when the student has not consented to storage")
    recorded: bool = Field(
        default=True,
        description="false when the check-in could not be recorded (the database was down): the urgent flag "
        "was raised all the same (202)",
    )
    recorded_at: datetime
    crisis_resources: list[CrisisResource] | None = Field(default=None, description="present when urgent")
    resources: list[ResourceOut] | None = Field(
        default=None,
        description="elevated or urgent: the institution's resources matching the reasons (urgent: crisis first)",
    )


class CheckinProblem(ProblemDetail):
    """A check-in that failed after its answers were scored (409, 500, 503)."""

    crisis_resources: list[CrisisResource] | None = Field(
        default=None,
        description="present when the answers are urgent: a failure never withholds them (same shape as in the "
        "201 reply)",
    )


class CheckinRecord(BaseModel):
    id: str
    student_id: str
    instrument: str
    answers: list[int] | None
    score: int | None
    percentage: int | None
    band: str | None
    severity: str
    reasons: list[str]
    note: str | None
    recorded_at: datetime


class CheckinPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.CHECKIN_PAGE]})
    items: list[CheckinRecord]
    next_cursor: str | None


class TrendPoint(BaseModel):
    recorded_at: datetime
    score: int
    percentage: int | None = None
    band: str
    severity: str


class Trend(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.TREND]})
    instruments: dict[str, list[TrendPoint]]
    changes: dict[str, int | None] = Field(description="last minus previous score per instrument")


class Consent(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"store_checkins": True, "share_flags_with_mentor": False}]}
    )
    store_checkins: StrictBool
    share_flags_with_mentor: StrictBool = False


class ConsentRecord(Consent):
    model_config = ConfigDict(extra="ignore")
    updated_at: datetime | None = None


class ReminderSettings(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cadence_days": 14}]})
    cadence_days: StrictInt | None = Field(default=None, ge=1, le=90, description="null turns reminders off")


class ReminderRecord(ReminderSettings):
    model_config = ConfigDict(extra="ignore")
    next_due_at: datetime | None = None


class Flag(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.FLAG]})
    id: str
    student_id: str
    cohort: str | None
    status: Literal["open", "resolved"]
    severity: Literal["elevated", "urgent"]
    reasons: list[str]
    priority: int
    instrument: str
    raised_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    resolution_note: str | None = Field(default=None, description="the resolving counsellor's note (encrypted at rest)")
    checkin_ids: list[str]


class FlagPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.FLAG_PAGE]})
    items: list[Flag]
    next_cursor: str | None


class FlagResolution(StrictInput):
    model_config = ConfigDict(json_schema_extra={"examples": [{"outcome": "contacted", "note": "spoke today"}]})
    outcome: Literal["contacted", "referred", "no_action_needed", "unreachable", "other"]
    note: str | None = Field(default=None, max_length=4000, description="encrypted at rest")


class AuditEntry(BaseModel):
    id: str
    actor_id: str
    actor_roles: list[str] = Field(default_factory=list)
    action: str
    student_id: str | None = None
    student_ref: str | None = Field(
        default=None, description="after the student's erasure: a keyed pseudonym in place of student_id"
    )
    record_ids: list[str] = Field(default_factory=list)
    purpose: str
    at: datetime


class AuditPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.AUDIT_PAGE]})
    items: list[AuditEntry]
    next_cursor: str | None


class CohortGroup(BaseModel):
    instrument: str
    period: str
    suppressed: bool
    students: int | None
    bands: dict[str, int] | None = Field(
        description="students by band (month only); a band under the minimum group size, or hidden with it, has no key"
    )
    mean_score: float | None
    change_from_previous: float | None
    in_progress: bool = Field(
        default=False, description="the month (or the week's month) has not ended: counts only, no mean or bands yet"
    )


class CohortSummary(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.COHORT_SUMMARY]})
    cohort: str
    period: Literal["month", "week"]
    min_group_size: int
    groups: list[CohortGroup]


def _instrument_page_example(schema: dict[str, Any]) -> None:
    """A page of the real catalogue (PHQ-2 and GAD-2 with a limit of 2), so it cannot drift from the data."""
    schema["examples"] = [
        {
            "items": [INSTRUMENTS[code].model_dump(mode="json") for code in ("gad2", "phq2")],
            "next_cursor": "WyJyYXciLCBudWxsLCAicGhxMiJd",
        }
    ]


class InstrumentPage(BaseModel):
    model_config = ConfigDict(json_schema_extra=_instrument_page_example)
    items: list[Instrument]
    next_cursor: str | None
