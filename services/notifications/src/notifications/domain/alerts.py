"""An alert and its escalation state as stored, and the factory of new alerts (pure).

Parsed from MongoDB at the repository boundary; ``to_document`` writes a new alert exactly as the service has
always stored it (field names, order, optional fields left out), so stored data and direct readers keep working."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from notifications.domain.working_time import due_at
from notifications.event_info import REDACTED_LINK, EventInfo
from notifications.routing import EscalationStep

Document = dict[str, Any]
AlertStatus = Literal["open", "acknowledged", "resolved"]
UTC_ZONE = ZoneInfo("UTC")


def derived_id(*parts: str) -> str:
    """A fixed id for what ``parts`` name, so a redelivered event finds what it made the first time."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


class Escalation(BaseModel):
    """Who is told next while nobody acknowledges: every step's delay counts from ``started_at`` (the alert's
    creation, or its upgrade to a stronger rule); ``next_at`` None once acknowledged, resolved or exhausted."""

    model_config = ConfigDict(frozen=True)
    steps: tuple[EscalationStep, ...]
    level: int = 0
    started_at: datetime | None = None
    next_at: datetime | None = None

    @classmethod
    def start(cls, steps: tuple[EscalationStep, ...], started_at: datetime, zone: ZoneInfo) -> Escalation | None:
        if not steps:
            return None
        return cls(steps=steps, level=0, started_at=started_at, next_at=step_due(started_at, steps[0], zone))

    def to_document(self) -> Document:
        steps = [step.model_dump(mode="json") for step in self.steps]
        return {"steps": steps, "level": self.level, "started_at": self.started_at, "next_at": self.next_at}


def step_due(started_at: datetime, step: EscalationStep, zone: ZoneInfo) -> datetime:
    return due_at(started_at, step.after_minutes, working_days_only=step.working_days_only, zone=zone)


class Alert(BaseModel):
    """One person's alert about one event (or a burst of them about one student)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    id: str = Field(alias="_id")
    recipient_id: str
    rule_id: str
    root_id: str
    """The first alert of its escalation chain (itself when it is the first)."""
    level: int = 0
    group_key: str
    event_ids: tuple[str, ...] = Field(min_length=1)
    event_type: str
    family: str
    severity: str
    urgent: bool = False
    subject_id: str
    reasons: tuple[str, ...] = ()
    title: str
    link: str
    status: AlertStatus
    channels: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    version: int
    """Raised by every update: an update names the version it read, so concurrent changes never interleave."""
    event_time: datetime | None = None
    escalation: Escalation | None = None
    redacted_subject_id: str | None = None
    """On a redacted notice: the student it is about, kept for erasure and closing, never shown."""
    coarse_times: bool = False
    """About an anonymous report: every time kept is rounded to the hour."""
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    first_delivered_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def to_document(self) -> Document:
        """The stored form of a new alert."""
        return (
            {
                "_id": self.id,
                "recipient_id": self.recipient_id,
                "rule_id": self.rule_id,
                "root_id": self.root_id,
                "level": self.level,
                "group_key": self.group_key,
                "event_ids": list(self.event_ids),
                "event_type": self.event_type,
                "family": self.family,
                "severity": self.severity,
                "urgent": self.urgent,
                "subject_id": self.subject_id,
                "reasons": list(self.reasons),
                "title": self.title,
                "link": self.link,
                "status": self.status,
                "channels": list(self.channels),
                "created_at": self.created_at,
                "updated_at": self.updated_at,
                "version": self.version,
                "event_time": self.event_time,
                "escalation": self.escalation.to_document() if self.escalation else None,
            }
            | ({"redacted_subject_id": self.redacted_subject_id} if self.redacted_subject_id is not None else {})
            | ({"coarse_times": True} if self.coarse_times else {})
            | {
                name: value
                for name in ("acknowledged_at", "acknowledged_by", "first_delivered_at")
                if (value := getattr(self, name)) is not None
            }
        )

    def info(self) -> EventInfo:
        """What the alert tells about its (first) event, for alerting further people about it."""
        return EventInfo(
            event_id=self.event_ids[0],
            event_type=self.event_type,
            severity=self.severity,
            cohort=None,
            subject_id=self.subject_id,
            family=self.family,
            reasons=self.reasons,
            title=self.title,
            link=self.link,
            redacted_from=self.redacted_subject_id,
            coarse_times=self.coarse_times,
        )


def new_alert(
    *,
    alert_id: str,
    recipient_id: str,
    rule_id: str,
    channels: tuple[str, ...],
    escalation: tuple[EscalationStep, ...],
    info: EventInfo,
    now: datetime,
    group_key: str,
    root_id: str | None = None,
    level: int = 0,
    zone: ZoneInfo = UTC_ZONE,
) -> Alert:
    """A new open alert about ``info`` for ``recipient_id``; a redacted notice hides the subject behind the
    alert's own id and links to the notice's page."""
    return Alert(
        id=alert_id,
        recipient_id=recipient_id,
        rule_id=rule_id,
        root_id=root_id or alert_id,
        level=level,
        group_key=group_key,
        event_ids=(info.event_id,),
        event_type=info.event_type,
        family=info.family,
        severity=info.severity,
        urgent=info.urgent,
        subject_id=alert_id if info.redacted_from is not None else info.subject_id,
        reasons=tuple(info.reasons),
        title=info.title,
        link=REDACTED_LINK.format(alert_id=alert_id) if info.link == REDACTED_LINK else info.link,
        status="open",
        channels=channels,
        created_at=now,
        updated_at=now,
        version=1,
        event_time=info.event_time or now,
        escalation=Escalation.start(escalation, now, zone),
        redacted_subject_id=info.redacted_from,
        coarse_times=info.coarse_times,
    )
