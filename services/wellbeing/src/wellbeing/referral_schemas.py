"""Request and response models of the referral routes (with examples for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from medsupport_shared.inputs import StrictInput
from wellbeing.domain.referrals import (
    CloseOutcome,
    ConcernCategory,
    ContactMethod,
    ReferralKind,
    ReferralStatus,
    SelfReferralReason,
    TriageStatus,
    Urgency,
)

_WHEN = "2026-03-02T09:00:00Z"
_DEADLINE = "2026-03-05T09:00:00Z"


class SelfReferralCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "reason": "anxiety",
                    "urgency": "this_week",
                    "contact_method": "video",
                    "preferred_times": "weekday afternoons",
                    "note": "struggling since the exams",
                }
            ]
        }
    )
    reason: SelfReferralReason
    urgency: Urgency
    contact_method: ContactMethod
    preferred_times: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=4000, description="private; encrypted at rest")


class ConcernCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"student_id": "s-1024", "category": "attendance", "description": "missed three weeks of clinics"}
            ]
        }
    )
    student_id: str = Field(min_length=1, max_length=100)
    category: ConcernCategory
    description: str = Field(min_length=1, max_length=1000, description="short; encrypted at rest")


class TriageStep(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"status": "accepted", "note": "will phone tomorrow"},
                {"status": "offered_times", "offered_times": ["2026-03-03T10:00:00Z", "2026-03-04T14:00:00Z"]},
                {"status": "booked", "appointment_at": "2026-03-03T10:00:00Z"},
                {"status": "closed", "outcome": "seen"},
            ]
        }
    )
    status: TriageStatus
    offered_times: list[AwareDatetime] = Field(default_factory=list, max_length=10)
    appointment_at: AwareDatetime | None = None
    outcome: CloseOutcome | None = Field(default=None, description="needed to close: a code, never free text")
    note: str | None = Field(default=None, max_length=4000, description="staff only; encrypted at rest")


_STAFF_EXAMPLE: dict[str, Any] = {
    "id": "5b0c1d7e9f2a4c3b8d6e1f0a2b3c4d5e",
    "kind": "self",
    "student_id": "s-1024",
    "cohort": "2027",
    "category": "anxiety",
    "urgency": "this_week",
    "status": "accepted",
    "created_at": _WHEN,
    "deadline_at": _DEADLINE,
    "first_contact_at": "2026-03-02T11:00:00Z",
    "escalated_at": None,
    "contact": {"method": "video", "preferred_times": "weekday afternoons"},
    "offered_times": [],
    "appointment_at": None,
    "closed_at": None,
    "outcome": None,
    "referrer_id": None,
    "note": "struggling since the exams",
    "description": None,
    "staff_notes": ["c1: will phone tomorrow"],
}


class ReferralStaffView(BaseModel):
    """A referral as the counselling team sees it (health data: counsellor and wellbeing lead; audited)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_STAFF_EXAMPLE]})
    id: str
    kind: ReferralKind
    student_id: str
    cohort: str | None
    category: str
    urgency: Urgency
    status: ReferralStatus
    created_at: datetime
    deadline_at: datetime
    first_contact_at: datetime | None
    escalated_at: datetime | None
    contact: dict[str, str | None]
    offered_times: list[datetime]
    appointment_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    referrer_id: str | None
    note: str | None
    description: str | None
    staff_notes: list[str]


class ReferralQueue(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_STAFF_EXAMPLE], "next_cursor": None}]})
    items: list[ReferralStaffView]
    next_cursor: str | None


_STUDENT_EXAMPLE: dict[str, Any] = {
    "id": "5b0c1d7e9f2a4c3b8d6e1f0a2b3c4d5e",
    "about_you": False,
    "category": "anxiety",
    "created_at": _WHEN,
    "state": "seen",
    "message": "A counsellor has seen this; expect contact by Thursday 05 March 2026 09:00 UTC.",
    "expect_contact_by": _DEADLINE,
    "offered_times": [],
    "appointment_at": None,
}


class MyReferral(BaseModel):
    """What a student sees of a referral: its stage, never staff notes nor who raised a concern."""

    model_config = ConfigDict(json_schema_extra={"examples": [_STUDENT_EXAMPLE]})
    id: str
    about_you: bool = Field(description="raised by someone else who was worried about you")
    category: str
    created_at: datetime
    state: Literal["received", "seen", "times_offered", "booked", "closed"]
    message: str
    expect_contact_by: datetime | None
    offered_times: list[datetime]
    appointment_at: datetime | None


class FlagState(BaseModel):
    state: Literal["open"]
    message: str
    raised_at: datetime


class HelpStatusOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "flag": {
                        "state": "open",
                        "message": "The counselling team knows about your check-in and will contact you.",
                        "raised_at": _WHEN,
                    },
                    "referrals": [_STUDENT_EXAMPLE],
                }
            ]
        }
    )
    flag: FlagState | None = Field(description="your open wellbeing flag, if any")
    referrals: list[MyReferral]


_RAISED_EXAMPLE: dict[str, Any] = {
    "id": "5b0c1d7e9f2a4c3b8d6e1f0a2b3c4d5e",
    "category": "attendance",
    "status": "received",
    "created_at": _WHEN,
}


class RaisedReferral(BaseModel):
    """What the referrer sees: received, then closed; never the outcome, notes or the counsellor."""

    model_config = ConfigDict(json_schema_extra={"examples": [_RAISED_EXAMPLE]})
    id: str
    category: str
    status: Literal["received", "closed"]
    created_at: datetime


class RaisedReferralPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_RAISED_EXAMPLE], "next_cursor": None}]})
    items: list[RaisedReferral]
    next_cursor: str | None


class MonthFiguresOut(BaseModel):
    month: str = Field(description="YYYY-MM")
    suppressed: bool = Field(description="fewer students than MIN_GROUP_SIZE (or a kind below it): no figure")
    referrals: int | None
    self_referrals: int | None
    concerns: int | None
    contacted: int | None
    median_hours_to_first_contact: float | None = Field(
        description="null when fewer were contacted than the group size"
    )


class ReferralFigures(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "months": [
                        {
                            "month": "2026-01",
                            "suppressed": True,
                            "referrals": None,
                            "self_referrals": None,
                            "concerns": None,
                            "contacted": None,
                            "median_hours_to_first_contact": None,
                        },
                        {
                            "month": "2026-02",
                            "suppressed": False,
                            "referrals": 14,
                            "self_referrals": 9,
                            "concerns": 5,
                            "contacted": 13,
                            "median_hours_to_first_contact": 20.5,
                        },
                    ]
                }
            ]
        }
    )
    months: list[MonthFiguresOut]
