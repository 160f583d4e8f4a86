"""Meetings of a mentorship, and when a quiet mentorship is due a reminder."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from mentorship.domain.assignments import Assignment


class Meeting(BaseModel):
    """As stored (``_id`` read as ``id``); ``notes`` maps each author to their own encrypted note."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str
    assignment_id: str
    met_at: datetime
    format: str
    logged_by: str
    created_at: datetime | None = None
    notes: dict[str, str] = Field(default_factory=dict)


def quiet_since(assignment: Assignment) -> datetime:
    """Since when nothing happened: the last meeting, or the start when none was logged yet."""
    return assignment.last_meeting_at or assignment.assigned_at


def reminder_due(assignment: Assignment, *, now: datetime, period: timedelta) -> bool:
    return now - quiet_since(assignment) >= period


def reminder_id(assignment: Assignment) -> str:
    """One id per assignment and quiet period (named by its start), so a reminder is sent once across
    sweeps and restarts."""
    return hashlib.sha256(f"{assignment.id}|{quiet_since(assignment).isoformat()}".encode()).hexdigest()[:32]
