"""The flag: a worrying check-in's place in the counselling queue, raised, merged with later check-ins while
open, resolved with an outcome (pure: the entity and how it changes; the use cases store it)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wellbeing.domain.flag_rules import Assessment, OpenFlag, Severity, merge, queue_key

FlagStatus = Literal["open", "resolved"]
RESOLUTION_OUTCOMES = ("contacted", "referred", "no_action_needed", "unreachable", "other")
FLAG_IDS = uuid.UUID("5d1c7c52-8a43-4b8e-9d51-0b6f3f0d7a11")


def flag_id_for(checkin_id: str) -> str:
    """The id of the flag a check-in raises when the student has none open, and of its ``flag.raised``
    event: derived from the check-in, so every path that raises it (the request, the pending-flag sweep,
    the urgent spool's replay) raises the same flag and consumers drop the repeats by event id."""
    return uuid.uuid5(FLAG_IDS, f"flag:{checkin_id}").hex


def flag_raised_event_id(checkin_id: str) -> str:
    return str(uuid.uuid5(FLAG_IDS, f"flag.raised:{checkin_id}"))


@dataclass(frozen=True)
class WorryingCheckin:
    """What a flag takes from the worrying check-in that raises or updates it: ids, codes, the student's
    consent to tell their mentor; never answers nor notes."""

    checkin_id: str
    student_id: str
    cohort: str | None
    instrument: str
    assessment: Assessment
    share_with_mentor: bool = False


class Flag(BaseModel):
    """A stored flag. ``resolution_note`` stays sealed (encrypted) here: only a view for a health role opens it."""

    model_config = ConfigDict(frozen=True)

    id: str
    student_id: str
    status: FlagStatus
    severity: Severity
    reasons: tuple[str, ...]
    priority: int = 0
    instrument: str
    raised_at: datetime
    updated_at: datetime | None = None
    cohort: str | None = None
    queue_key: str | None = None
    checkin_ids: tuple[str, ...] = ()
    version: int
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    outcome: str | None = None
    resolution_note: str | None = None
    erasure_pending: bool = False
    """Kept past its student's erasure for the safety follow-up (an open urgent flag)."""

    @property
    def is_open(self) -> bool:
        return self.status == "open"


def raised_flag(checkin: WorryingCheckin, *, at: datetime) -> Flag:
    """The flag a worrying check-in raises when its student has none open (its id derived from the check-in)."""
    assessment = checkin.assessment
    return Flag(
        id=flag_id_for(checkin.checkin_id),
        student_id=checkin.student_id,
        status="open",
        cohort=checkin.cohort,
        severity=assessment.severity,
        reasons=assessment.reasons,
        priority=assessment.priority,
        instrument=checkin.instrument,
        raised_at=at,
        updated_at=at,
        queue_key=queue_key(assessment.severity, assessment.priority, at),
        checkin_ids=(checkin.checkin_id,),
        version=1,
    )


def merged_flag(flag: Flag, checkin: WorryingCheckin, *, at: datetime) -> Flag:
    """The open flag after one more worrying check-in (reasons accumulate; severity and priority only rise);
    it keeps its place in the queue by when it was raised."""
    merged = merge(OpenFlag(flag.severity, flag.reasons, flag.priority), checkin.assessment)
    return flag.model_copy(
        update={
            "severity": merged.severity,
            "reasons": merged.reasons,
            "priority": merged.priority,
            "queue_key": queue_key(merged.severity, merged.priority, flag.raised_at),
            "instrument": checkin.instrument,
            "updated_at": at,
            "checkin_ids": (*flag.checkin_ids, checkin.checkin_id),
            "version": flag.version + 1,
        }
    )


def resolved_flag(flag: Flag, *, by: str, outcome: str, sealed_note: str | None, at: datetime) -> Flag:
    return flag.model_copy(
        update={
            "status": "resolved",
            "resolved_at": at,
            "resolved_by": by,
            "outcome": outcome,
            "resolution_note": sealed_note,
            "updated_at": at,
            "version": flag.version + 1,
        }
    )
