"""What an event means for an alert: severity, the people it names, a title and a link path (pure).

Alerts carry ids, categories, severities, reasons and a link, never answers, notes or concern text."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from medsupport_shared.events import CloudEvent

FAMILIES = {
    "flag.raised": "flag",
    "flag.updated": "flag",
    # Referrals are health data: alerts about them fall back to counselling roles only (recipients.FALLBACK_ROLES) and are redacted for anyone else (safety.HEALTH_FAMILIES).
    "referral.received": "referral",
    "referral.deadline_missed": "referral",
}
TITLES = {
    "flag.raised": "{severity} wellbeing flag",
    "flag.updated": "{severity} wellbeing flag updated",
    "checkin.reminder_due": "Time for your wellbeing check-in",
    "referral.received": "New counselling referral",
    "referral.deadline_missed": "Counselling referral not contacted by its deadline",
    "referral.student_notice": "{message}",
    "workshop.reminder_due": "Your workshop session starts soon",
    "concern.raised": "New concern report ({category})",
    "concern.updated": "Your concern report is now {status}",
    "feedback.submitted": "New feedback for you",
    "feedback.requested": "Feedback requested from you",
    "feedback.overdue": "Feedback request overdue",
    "mentor.assigned": "Mentor assignment",
    "mentorship.ended": "Mentorship ended",
    "meeting.reminder_due": "Time to meet with your mentor/mentee",
    "concern.triage_overdue": "Concern report ({category}) not triaged in time",
    "climate.invited": "How was your rotation? A two-minute anonymous pulse",
    "climate.alert_raised": "Learning climate alert: {site}",
    "suggestion.updated": "Your suggestion is now {status}",
}
LINKS = {
    "flag": "/wellbeing/flags/{flag_id}",
    "checkin.reminder_due": "/wellbeing/checkins/new",
    "referral": "/wellbeing/referrals/{referral_id}",
    "referral.student_notice": "/wellbeing/me/help",
    "workshop.reminder_due": "/wellbeing/workshops/{workshop_id}",
    "concern.raised": "/feedback/concerns/{concern_id}",
    "concern.updated": "/feedback/concerns/{concern_id}",
    "feedback.submitted": "/feedback/{feedback_id}",
    "feedback.requested": "/feedback/requests/{request_id}",
    "feedback.overdue": "/feedback/requests/{request_id}",
    "mentor.assigned": "/mentorship/assignments/{assignment_id}",
    "mentorship.ended": "/mentorship/assignments/{assignment_id}",
    "meeting.reminder_due": "/mentorship/assignments/{assignment_id}",
    "concern.triage_overdue": "/feedback/concerns/{concern_id}",
    "climate.invited": "/feedback/rotations/{rotation_id}/climate",
    "climate.alert_raised": "/feedback/climate/results",
    "suggestion.updated": "/feedback/suggestions/{suggestion_id}",
}
PEOPLE_FIELDS = {
    "student": "student_id",
    "mentor": "mentor_id",
    "mentee": "mentee_id",
    "assessor": "assessor_id",
    "author": "author_id",
    "reporter": "reporter_id",
    "director": "director_id",
}


@dataclass(frozen=True)
class EventInfo:
    event_id: str
    event_type: str
    severity: str
    cohort: str | None
    subject_id: str
    family: str
    reasons: tuple[str, ...]
    title: str
    link: str
    people: dict[str, str] = field(default_factory=dict)
    event_time: datetime | None = None
    redacted_from: str | None = None
    """Set on a redacted notice: the student it is about, kept for erasure and closing, never shown."""
    category: str | None = None
    """A concern event's category (rules may match it)."""
    coarse_times: bool = False
    """About an anonymous concern report: every time kept is rounded to the hour, outbound sends are delayed."""

    @property
    def urgent(self) -> bool:
        return self.severity == "urgent"


def describe(event: CloudEvent) -> EventInfo:
    data: dict[str, Any] = event.data
    people = {kind: str(data[name]) for kind, name in PEOPLE_FIELDS.items() if data.get(name)}
    if "mentee" in people:
        people.setdefault("student", people["mentee"])
    family = FAMILIES.get(event.type, event.type)
    severity = str(data.get("severity", "routine"))
    fields = {k: v for k, v in data.items() if isinstance(v, str)}
    return EventInfo(
        event_id=event.id,
        event_type=event.type,
        severity=severity,
        cohort=data.get("cohort"),
        subject_id=event.subject,
        family=family,
        reasons=tuple(data.get("reasons", ())),
        title=TITLES.get(event.type, event.type).format_map(_Default({**fields, "severity": severity.capitalize()})),
        link=LINKS.get(family, LINKS.get(event.type, "/")).format_map(_Default(fields)),
        people=people,
        event_time=event.time,
        category=data.get("category") if isinstance(data.get("category"), str) else None,
        coarse_times=is_anonymous_report(event.type, people),
    )


def is_anonymous_report(event_type: str, people: dict[str, str]) -> bool:
    """A concern report without a reporter: feedback marks it so (``anonymous``, no ``reporter_id``) and rounds
    its ``time`` down to the hour; a report that names no reporter counts as anonymous whatever its flag says."""
    return event_type == "concern.raised" and "reporter" not in people


def for_mentor(info: EventInfo, *, link: str) -> EventInfo:
    """What a mentor is told about their mentee's flag (only with the student's consent): that support may
    be welcome. A routine nudge, so quiet hours apply: no reasons, no severity, no link to wellbeing records."""
    return replace(
        info,
        severity="routine",
        family="mentee-support",
        reasons=(),
        title="Your mentee may welcome a check-in from you",
        link=link,
    )


REDACTED_FAMILY = "urgent-notice"
REDACTED_LINK = "/alerts/{alert_id}"


def redacted(info: EventInfo, *, title: str) -> EventInfo:
    """What someone without a health role is told about a wellbeing flag (an escalation to admin, an on-call
    person who holds no counselling role): that an urgent alert needs a human, with a link to this notice
    (the alert's own id fills it in); no reasons, no student, no link to wellbeing records."""
    return replace(
        info,
        family=REDACTED_FAMILY,
        reasons=(),
        subject_id="",
        title=title,
        link=REDACTED_LINK,
        people={},
        redacted_from=info.subject_id,
    )


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
