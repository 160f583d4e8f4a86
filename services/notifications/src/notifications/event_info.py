"""What an event means for an alert: severity, the people it names, a title and a link path (pure).

Alerts carry ids, categories, severities, reasons and a link, never answers, notes or concern text."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from medsupport_shared.events import CloudEvent, EventData
from notifications.domain.event_facts import EVENT_FACTS, EventFacts, render


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
    mentor_consented: bool = False
    """A wellbeing flag whose student consented to share it with their mentor (the mentor gets a nudge)."""

    @property
    def urgent(self) -> bool:
        return self.severity == "urgent"


def describe(event: CloudEvent, payload: EventData | None = None) -> EventInfo:
    """What ``event`` means for an alert, read from its typed payload (parsed here when not given) through
    the facts its payload class declares."""
    payload = event.payload() if payload is None else payload
    facts = EVENT_FACTS.get(type(payload))
    if facts is None:  # not routable: the consumers route only what EVENT_FACTS declares
        facts = EventFacts(title=event.type)
    people = {kind: str(value) for kind, name in facts.people.items() if (value := getattr(payload, name, None))}
    severity = str(getattr(payload, "severity", "routine"))
    category = getattr(payload, "category", None)
    fields = {k: v for k, v in payload.model_dump(mode="json").items() if isinstance(v, str)}
    return EventInfo(
        event_id=event.id,
        event_type=event.type,
        severity=severity,
        cohort=getattr(payload, "cohort", None),
        subject_id=event.subject,
        family=facts.family or event.type,
        reasons=tuple(getattr(payload, "reasons", ())),
        title=render(facts.title, {**fields, "severity": severity.capitalize()}),
        link=render(facts.link, fields),
        people=people,
        event_time=event.time,
        category=category if isinstance(category, str) else None,
        coarse_times=is_anonymous_report(event.type, people),
        mentor_consented=facts.mentor_on_consent and getattr(payload, "share_with_mentor", False) is True,
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
        family=MENTEE_SUPPORT_FAMILY,
        reasons=(),
        title="Your mentee may welcome a check-in from you",
        link=link,
    )


MENTEE_SUPPORT_FAMILY = "mentee-support"
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
