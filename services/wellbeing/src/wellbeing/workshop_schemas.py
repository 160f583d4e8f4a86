"""Request and response models of workshops (with examples for the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from medsupport_shared.inputs import StrictInput

_SESSION_IN: dict[str, Any] = {
    "starts_at": "2026-03-10T17:00:00Z",
    "ends_at": "2026-03-10T18:30:00Z",
    "seats": 12,
    "location": "Library seminar room 2",
}
_WORKSHOP: dict[str, Any] = {
    "id": "9c1e3f2a",
    "title": "Managing exam stress",
    "description": "Practical techniques, with the counselling team.",
    "sessions": [{"id": "77aa01", **_SESSION_IN, "seats_taken": 5}],
}
_SEAT: dict[str, Any] = {
    "workshop_id": "9c1e3f2a",
    "session_id": "77aa01",
    "seat": "77aa01:seat:5",
    "starts_at": "2026-03-10T17:00:00Z",
    "signed_up_at": "2026-03-01T12:00:00Z",
}


class SessionIn(StrictInput):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    seats: int = Field(ge=1, le=500)
    location: str = Field(min_length=1, max_length=200)


class WorkshopIn(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"title": _WORKSHOP["title"], "description": _WORKSHOP["description"], "sessions": [_SESSION_IN]}
            ]
        }
    )
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    sessions: list[SessionIn] = Field(min_length=1, max_length=50)


class SessionOut(BaseModel):
    id: str
    starts_at: datetime
    ends_at: datetime
    seats: int
    seats_taken: int
    location: str


class WorkshopOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_WORKSHOP]})
    id: str
    title: str
    description: str
    sessions: list[SessionOut]


class WorkshopPage(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [_WORKSHOP], "next_cursor": None}]})
    items: list[WorkshopOut]
    next_cursor: str | None


class SeatOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_SEAT]})
    workshop_id: str
    session_id: str
    seat: str
    starts_at: datetime
    signed_up_at: datetime
