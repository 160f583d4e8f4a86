"""An assignment of a mentor to a student, and who the caller is to it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Side = Literal["mentor", "mentee", "admin"]


class Assignment(BaseModel):
    """As stored (``_id`` read as ``id``); ``end_reason`` stays encrypted (admins read it at the edge)."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    mentor_id: str
    mentee_id: str
    status: Literal["active", "ended"]
    how: str
    score: float = 0.0
    criteria: dict[str, float] = Field(default_factory=dict)
    assigned_at: datetime
    created_at: datetime | None = None
    last_meeting_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: Side | None = None
    end_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"

    def ended(self, *, at: datetime, by: Side, encrypted_reason: str | None) -> Assignment:
        return self.model_copy(
            update={"status": "ended", "ended_at": at, "ended_by": by, "end_reason": encrypted_reason}
        )


def side_of(assignment: Assignment, caller: str, *, admin: bool) -> Side | None:
    """The caller's side of the assignment; None for anyone else (who is told it does not exist)."""
    if caller == assignment.mentor_id:
        return "mentor"
    if caller == assignment.mentee_id:
        return "mentee"
    return "admin" if admin else None
