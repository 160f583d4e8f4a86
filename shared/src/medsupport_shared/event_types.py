"""Typed payloads of every integration event in docs/CONTRACT.md, and which topic carries each.

Payloads carry the minimum a consumer needs: ids, categories, severities, times. Never raw
questionnaire answers, free-text notes, concern descriptions or an anonymous reporter's identity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import Field

from medsupport_shared.events import EventData

FEEDBACK_TOPIC = "feedback.events.v1"
WELLBEING_TOPIC = "wellbeing.events.v1"
MENTORSHIP_TOPIC = "mentorship.events.v1"
NOTIFICATIONS_TOPIC = "notifications.events.v1"
PLATFORM_TOPIC = "platform.events.v1"
ALL_TOPICS = (FEEDBACK_TOPIC, WELLBEING_TOPIC, MENTORSHIP_TOPIC, NOTIFICATIONS_TOPIC, PLATFORM_TOPIC)
TOPIC_OWNERS = {
    FEEDBACK_TOPIC: "feedback",
    WELLBEING_TOPIC: "wellbeing",
    MENTORSHIP_TOPIC: "mentorship",
    NOTIFICATIONS_TOPIC: "notifications",
    PLATFORM_TOPIC: "wellbeing",  # erasure requests are accepted by wellbeing's POST /v1/erasure-requests
}
"""The only service that may write each topic (the Kafka ACLs in deploy/ grant exactly this), and so the
only CloudEvents ``source`` a consumer accepts for the event types the topic carries."""

Severity = Literal["none", "elevated", "urgent"]
FlagSeverity = Literal["elevated", "urgent"]
ConcernCategory = Literal["mistreatment", "discrimination", "bias", "professionalism", "safety", "other"]
ConcernStatus = Literal["received", "under_review", "action_taken", "closed"]


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


# ------------------------------------------------------------------ feedback.events.v1


class FeedbackSubmitted(EventData):
    event_type = "feedback.submitted"
    topic = FEEDBACK_TOPIC
    feedback_id: str
    student_id: str
    author_id: str
    kind: str
    context: str
    submitted_at: datetime


class FeedbackRequested(EventData):
    event_type = "feedback.requested"
    topic = FEEDBACK_TOPIC
    request_id: str
    student_id: str
    assessor_id: str
    context: str
    due_at: datetime
    requested_at: datetime


class FeedbackOverdue(EventData):
    event_type = "feedback.overdue"
    topic = FEEDBACK_TOPIC
    request_id: str
    student_id: str
    assessor_id: str
    context: str
    due_at: datetime
    overdue_at: datetime


class ConcernRaised(EventData):
    event_type = "concern.raised"
    topic = FEEDBACK_TOPIC
    concern_id: str
    category: ConcernCategory
    anonymous: bool
    reported_at: datetime
    reporter_id: str | None = None
    """Only when not anonymous."""

    def event_subject(self) -> str:
        return self.concern_id if self.anonymous or self.reporter_id is None else self.reporter_id


class ConcernUpdated(EventData):
    event_type = "concern.updated"
    topic = FEEDBACK_TOPIC
    concern_id: str
    category: ConcernCategory
    status: ConcernStatus
    anonymous: bool
    updated_at: datetime
    reporter_id: str | None = None
    """Only when not anonymous."""

    def event_subject(self) -> str:
        return self.concern_id if self.anonymous or self.reporter_id is None else self.reporter_id


class ConcernTriageOverdue(EventData):
    """A concern still ``received`` (untriaged) at its triage deadline: escalated, once."""

    event_type = "concern.triage_overdue"
    topic = FEEDBACK_TOPIC
    concern_id: str
    category: ConcernCategory
    anonymous: bool
    due_at: datetime

    def event_subject(self) -> str:
        return self.concern_id


class SuggestionUpdated(EventData):
    """Staff moved a student suggestion (under review, planned, done, declined). Named authors only are
    told; an anonymous suggestion's event names no one."""

    event_type = "suggestion.updated"
    topic = FEEDBACK_TOPIC
    suggestion_id: str
    programme: str
    status: Literal["open", "under_review", "planned", "done", "declined"]
    anonymous: bool
    updated_at: datetime
    author_id: str | None = None
    """Only when not anonymous."""

    def event_subject(self) -> str:
        return self.author_id if self.author_id and not self.anonymous else self.suggestion_id


class ClimateInvited(EventData):
    """A rotation ended: one of its students is invited to answer its climate pulse (anonymously)."""

    event_type = "climate.invited"
    topic = FEEDBACK_TOPIC
    rotation_id: str
    student_id: str
    closes_at: datetime
    invited_at: datetime


class ClimateAlertRaised(EventData):
    """A site's released climate worsened beyond the threshold since its previous period, or concern
    reports about it clustered. Subscale codes and counts' existence only: no figures, no reports."""

    event_type = "climate.alert_raised"
    topic = FEEDBACK_TOPIC
    alert_id: str
    site: str
    reason: Literal["climate_drop", "concern_cluster"]
    period: str
    subscales: list[str] = Field(default_factory=list)
    director_id: str | None = None
    """The site's clerkship director, when the roster names one."""
    raised_at: datetime

    def event_subject(self) -> str:
        return self.site


# ------------------------------------------------------------------ wellbeing.events.v1


class CheckinRecorded(EventData):
    event_type = "checkin.recorded"
    topic = WELLBEING_TOPIC
    checkin_id: str
    student_id: str
    instrument: str
    severity: Severity
    recorded_at: datetime
    cohort: str | None = None
    stored: bool = True
    """False when the student has not consented to storage (the check-in was scored, not kept)."""


class FlagRaised(EventData):
    event_type = "flag.raised"
    topic = WELLBEING_TOPIC
    flag_id: str
    student_id: str
    severity: FlagSeverity
    reasons: list[str] = Field(min_length=1)
    instrument: str
    raised_at: datetime
    cohort: str | None = None
    priority: int = 0
    """Higher is more pressing inside a severity (e.g. PHQ-9 >= 20 among elevated flags)."""
    share_with_mentor: bool = False


class FlagUpdated(EventData):
    event_type = "flag.updated"
    topic = WELLBEING_TOPIC
    flag_id: str
    student_id: str
    severity: FlagSeverity
    reasons: list[str] = Field(min_length=1)
    instrument: str
    updated_at: datetime
    cohort: str | None = None
    priority: int = 0
    share_with_mentor: bool = False


class FlagResolved(EventData):
    event_type = "flag.resolved"
    topic = WELLBEING_TOPIC
    flag_id: str
    student_id: str
    resolved_at: datetime
    outcome: str | None = None
    """An outcome code (e.g. ``contacted``, ``referred``), never free text."""
    cohort: str | None = None


class CheckinReminderDue(EventData):
    """The student's chosen check-in cadence has come round (notifications turns it into a reminder)."""

    event_type = "checkin.reminder_due"
    topic = WELLBEING_TOPIC
    student_id: str
    due_at: datetime
    cadence_days: int
    reminder_id: str


ReferralKind = Literal["self", "concern"]


class ReferralReceived(EventData):
    """A student asked for a counselling appointment (``self``) or someone raised a concern about a student
    (``concern``). No note, no description, no referrer: the counselling team reads those in wellbeing."""

    event_type = "referral.received"
    topic = WELLBEING_TOPIC
    referral_id: str
    student_id: str
    kind: ReferralKind
    category: str
    """A code from the fixed list of the kind (e.g. ``anxiety``, ``attendance``)."""
    urgency: Literal["today", "this_week", "whenever"]
    severity: Literal["routine", "elevated"]
    """``elevated`` for a self-referral needing contact today (not deferred by quiet hours)."""
    deadline_at: datetime
    received_at: datetime
    cohort: str | None = None


class ReferralTriaged(EventData):
    event_type = "referral.triaged"
    topic = WELLBEING_TOPIC
    referral_id: str
    student_id: str
    kind: ReferralKind
    status: Literal["accepted", "offered_times", "booked", "closed"]
    triaged_at: datetime
    cohort: str | None = None


class ReferralDeadlineMissed(EventData):
    """Nobody made first contact by the referral's service-level deadline: the wellbeing lead is told."""

    event_type = "referral.deadline_missed"
    topic = WELLBEING_TOPIC
    referral_id: str
    student_id: str
    kind: ReferralKind
    category: str
    urgency: Literal["today", "this_week", "whenever"]
    deadline_at: datetime
    missed_at: datetime
    severity: Literal["routine", "elevated"] = "routine"
    """As the referral's: a missed deadline of a request for today is not deferred by quiet hours."""
    cohort: str | None = None


class ReferralStudentNotice(EventData):
    """Tell the student that someone will reach out (a concern was raised about them), in the institution's
    configured words; never who raised it or why."""

    event_type = "referral.student_notice"
    topic = WELLBEING_TOPIC
    referral_id: str
    student_id: str
    message: str
    noticed_at: datetime


class WorkshopReminderDue(EventData):
    """A wellness workshop session the student signed up for starts soon (notifications reminds them)."""

    event_type = "workshop.reminder_due"
    topic = WELLBEING_TOPIC
    workshop_id: str
    session_id: str
    student_id: str
    starts_at: datetime
    reminder_id: str


# ------------------------------------------------------------------ mentorship.events.v1


class MentorAssigned(EventData):
    event_type = "mentor.assigned"
    topic = MENTORSHIP_TOPIC
    assignment_id: str
    mentor_id: str
    mentee_id: str
    assigned_at: datetime
    score: float

    def event_subject(self) -> str:
        return self.mentee_id


class MentorshipEnded(EventData):
    event_type = "mentorship.ended"
    topic = MENTORSHIP_TOPIC
    assignment_id: str
    mentor_id: str
    mentee_id: str
    ended_at: datetime
    ended_by: Literal["mentor", "mentee", "admin"]
    """Who asked; the reason stays private to admins in the mentorship service."""

    def event_subject(self) -> str:
        return self.mentee_id


class MeetingLogged(EventData):
    event_type = "meeting.logged"
    topic = MENTORSHIP_TOPIC
    meeting_id: str
    assignment_id: str
    mentor_id: str
    mentee_id: str
    met_at: datetime
    format: str
    logged_by: str

    def event_subject(self) -> str:
        return self.mentee_id


class MeetingReminderDue(EventData):
    """An assignment has had no meeting for the configured time."""

    event_type = "meeting.reminder_due"
    topic = MENTORSHIP_TOPIC
    assignment_id: str
    mentor_id: str
    mentee_id: str
    due_at: datetime
    reminder_id: str
    last_meeting_at: datetime | None = None

    def event_subject(self) -> str:
        return self.mentee_id


# ------------------------------------------------------------------ notifications.events.v1


class _AlertEvent(EventData):
    topic = NOTIFICATIONS_TOPIC
    alert_id: str
    subject_id: str | None = None
    """The student the alert is about; absent for wellbeing-flag and concern alerts (health data, reporters),
    as in ``alert.created``: the alert id stands in as the event's subject."""

    def event_subject(self) -> str:
        return self.subject_id or self.alert_id


class AlertCreated(EventData):
    event_type = "alert.created"
    topic = NOTIFICATIONS_TOPIC
    alert_id: str
    subject_id: str | None = None
    """The student the alert is about; absent for wellbeing-flag and concern alerts (health data, reporters)."""
    event_id: str
    """The id of the event that caused the alert."""
    source_event_type: str | None = None
    """Absent for wellbeing-flag and concern alerts, like ``subject_id``."""
    recipient_id: str
    severity: str
    created_at: datetime

    def event_subject(self) -> str:
        return self.subject_id or self.alert_id


class AlertDelivered(_AlertEvent):
    event_type = "alert.delivered"
    recipient_id: str
    channel: str
    attempt: int
    delivered_at: datetime


class AlertAcknowledged(_AlertEvent):
    event_type = "alert.acknowledged"
    acknowledged_by: str
    acknowledged_at: datetime


class AlertEscalated(_AlertEvent):
    event_type = "alert.escalated"
    level: int
    target: str
    recipient_ids: list[str]
    escalated_at: datetime


class DeliveryFailed(_AlertEvent):
    event_type = "delivery.failed"
    recipient_id: str
    channel: str
    attempts: int
    error: str
    failed_at: datetime


# ------------------------------------------------------------------ platform.events.v1


class StudentErasureRequested(EventData):
    event_type = "student.erasure.requested"
    topic = PLATFORM_TOPIC
    student_id: str
    requested_at: datetime
    requested_by: str


# ------------------------------------------------------------------ catalog


@dataclass(frozen=True)
class EventSpec:
    event_type: str
    topic: str
    model: type[EventData]


_MODELS: tuple[type[EventData], ...] = (
    FeedbackSubmitted,
    FeedbackRequested,
    FeedbackOverdue,
    ConcernRaised,
    ConcernUpdated,
    ConcernTriageOverdue,
    ClimateInvited,
    ClimateAlertRaised,
    SuggestionUpdated,
    CheckinRecorded,
    FlagRaised,
    FlagUpdated,
    FlagResolved,
    CheckinReminderDue,
    ReferralReceived,
    ReferralTriaged,
    ReferralDeadlineMissed,
    ReferralStudentNotice,
    WorkshopReminderDue,
    MentorAssigned,
    MentorshipEnded,
    MeetingLogged,
    MeetingReminderDue,
    AlertCreated,
    AlertDelivered,
    AlertAcknowledged,
    AlertEscalated,
    DeliveryFailed,
    StudentErasureRequested,
)

EVENT_CATALOG: dict[str, EventSpec] = {m.event_type: EventSpec(m.event_type, m.topic, m) for m in _MODELS}


def spec_for(event_type: str) -> EventSpec:
    """The spec of a known event type; ``KeyError`` for an unknown one."""
    return EVENT_CATALOG[event_type]


def service_source(service: str) -> str:
    """The CloudEvents ``source`` of a service's events."""
    return f"/services/{service}"


def owner_source(event_type: str) -> str:
    """The ``source`` an event of this type must carry: its topic's owner; ``KeyError`` for an unknown type."""
    return service_source(TOPIC_OWNERS[spec_for(event_type).topic])
