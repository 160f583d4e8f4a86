"""What notifications needs to know of each event it routes, declared once per payload class (pure).

A routing rule names event types; an alert takes its title, link and family from here, and the people a rule
may target are the ones the event names here. Unit tests tie every entry to the event catalogue (each key is a
catalogue model, each payload field named here exists on it), so a misspelt field fails a test instead of
silently naming nobody."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from medsupport_shared.event_types import (
    CheckinReminderDue,
    ClimateAlertRaised,
    ClimateInvited,
    ConcernRaised,
    ConcernTriageOverdue,
    ConcernUpdated,
    FeedbackOverdue,
    FeedbackRequested,
    FeedbackSubmitted,
    FlagRaised,
    FlagUpdated,
    MeetingReminderDue,
    MentorAssigned,
    MentorshipEnded,
    ReferralDeadlineMissed,
    ReferralReceived,
    ReferralStudentNotice,
    SuggestionUpdated,
    WorkshopReminderDue,
)
from medsupport_shared.events import EventData

FLAG_FAMILY = "flag"
REFERRAL_FAMILY = "referral"
ROUTINE_ONLY = frozenset({"routine"})
DEFAULT_FALLBACK_ROLES = ("admin",)
# Health data (flags, referrals) falls back to counselling roles only: never to anyone else.
HEALTH_FALLBACK_ROLES = ("counsellor", "wellbeing_lead")


@dataclass(frozen=True)
class EventFacts:
    """The facts of one routable event type."""

    title: str
    """A template over the payload's string fields; ``{severity}`` is the capitalised severity."""
    link: str = "/"
    """The alert's link path, a template over the payload's string fields."""
    people: Mapping[str, str] = field(default_factory=dict)
    """Who the event names: a person kind (a rule's target kind) → the payload field holding their id."""
    severities: frozenset[str] = ROUTINE_ONLY
    """The severities it can have, read from the payload's ``severity`` (``routine`` when it has none)."""
    family: str | None = None
    """Its alerts' family (grouping, privacy, fallback); None: the event type itself."""
    categorised: bool = False
    """Carries a concern category a rule may match."""
    mentor_on_consent: bool = False
    """The student's mentor is named too when the payload's ``share_with_mentor`` says the student consented."""
    untargetable: frozenset[str] = frozenset()
    """People the event names whom no rule may target (read for erasure and grouping only)."""
    fallback_roles: tuple[str, ...] = DEFAULT_FALLBACK_ROLES
    """Who gets its alert when a rule's staff target resolves to nobody, the first role someone holds."""

    @property
    def targetable(self) -> frozenset[str]:
        """The person kinds a rule for this event may target."""
        named = set(self.people) | ({"mentor"} if self.mentor_on_consent else set())
        return frozenset(named - self.untargetable)


STUDENT = MappingProxyType({"student": "student_id"})
MENTORSHIP = MappingProxyType({"mentor": "mentor_id", "mentee": "mentee_id", "student": "mentee_id"})
FEEDBACK_REQUEST = MappingProxyType({"student": "student_id", "assessor": "assessor_id"})
REPORTER = MappingProxyType({"reporter": "reporter_id"})
FLAG_SEVERITIES = frozenset({"elevated", "urgent"})
REFERRAL_SEVERITIES = frozenset({"routine", "elevated"})


def _flag(title: str) -> EventFacts:
    return EventFacts(
        title=title,
        link="/wellbeing/flags/{flag_id}",
        people=STUDENT,
        severities=FLAG_SEVERITIES,
        family=FLAG_FAMILY,
        mentor_on_consent=True,
        fallback_roles=HEALTH_FALLBACK_ROLES,
    )


def _referral(title: str) -> EventFacts:
    # Referral alerts name nobody a rule could target by person (not the student, never an assessor or the
    # referrer): they go to staff the rules name; only the notice in the institution's words goes to the student.
    # Referrals are health data: their alerts fall back to counselling roles only and are redacted for anyone else.
    return EventFacts(
        title=title,
        link="/wellbeing/referrals/{referral_id}",
        people=STUDENT,
        severities=REFERRAL_SEVERITIES,
        family=REFERRAL_FAMILY,
        untargetable=frozenset({"student"}),
        fallback_roles=HEALTH_FALLBACK_ROLES,
    )


EVENT_FACTS: Mapping[type[EventData], EventFacts] = MappingProxyType(
    {
        FlagRaised: _flag("{severity} wellbeing flag"),
        FlagUpdated: _flag("{severity} wellbeing flag updated"),
        CheckinReminderDue: EventFacts(
            title="Time for your wellbeing check-in", link="/wellbeing/checkins/new", people=STUDENT
        ),
        ReferralReceived: _referral("New counselling referral"),
        ReferralDeadlineMissed: _referral("Counselling referral not contacted by its deadline"),
        ReferralStudentNotice: EventFacts(title="{message}", link="/wellbeing/me/help", people=STUDENT),
        WorkshopReminderDue: EventFacts(
            title="Your workshop session starts soon", link="/wellbeing/workshops/{workshop_id}", people=STUDENT
        ),
        ConcernRaised: EventFacts(
            title="New concern report ({category})",
            link="/feedback/concerns/{concern_id}",
            people=REPORTER,
            categorised=True,
            # a category's office nobody holds yet: the concerns officers still triage, then admins
            fallback_roles=("concerns_officer", "admin"),
        ),
        ConcernUpdated: EventFacts(
            title="Your concern report is now {status}",
            link="/feedback/concerns/{concern_id}",
            people=REPORTER,
            categorised=True,
        ),
        FeedbackSubmitted: EventFacts(
            title="New feedback for you",
            link="/feedback/{feedback_id}",
            people={"student": "student_id", "author": "author_id"},
        ),
        FeedbackRequested: EventFacts(
            title="Feedback requested from you", link="/feedback/requests/{request_id}", people=FEEDBACK_REQUEST
        ),
        FeedbackOverdue: EventFacts(
            title="Feedback request overdue", link="/feedback/requests/{request_id}", people=FEEDBACK_REQUEST
        ),
        MentorAssigned: EventFacts(
            title="Mentor assignment", link="/mentorship/assignments/{assignment_id}", people=MENTORSHIP
        ),
        MentorshipEnded: EventFacts(
            title="Mentorship ended", link="/mentorship/assignments/{assignment_id}", people=MENTORSHIP
        ),
        MeetingReminderDue: EventFacts(
            title="Time to meet with your mentor/mentee",
            link="/mentorship/assignments/{assignment_id}",
            people=MENTORSHIP,
        ),
        ConcernTriageOverdue: EventFacts(
            title="Concern report ({category}) not triaged in time",
            link="/feedback/concerns/{concern_id}",
            categorised=True,
        ),
        ClimateInvited: EventFacts(
            title="How was your rotation? A two-minute anonymous pulse",
            link="/feedback/rotations/{rotation_id}/climate",
            people=STUDENT,
        ),
        ClimateAlertRaised: EventFacts(
            title="Learning climate alert: {site}",
            link="/feedback/climate/results",
            people={"director": "director_id"},
        ),
        SuggestionUpdated: EventFacts(
            title="Your suggestion is now {status}",
            link="/feedback/suggestions/{suggestion_id}",
            people={"author": "author_id"},
        ),
    }
)
"""Every event type notifications routes, keyed by its payload class (the consumers' table is built from it)."""

ROUTABLE: Mapping[str, EventFacts] = MappingProxyType({model.event_type: f for model, f in EVENT_FACTS.items()})
"""The same facts by the wire's event type (what a routing rule names)."""


def family_of(event_type: str) -> str:
    """The family of an event type's alerts (the type itself unless its facts group it with others)."""
    facts = ROUTABLE.get(event_type)
    return (facts.family or event_type) if facts is not None else event_type


def event_types_of(family: str) -> tuple[str, ...]:
    """The routable event types whose alerts are of ``family``, in declaration order."""
    return tuple(t for t, facts in ROUTABLE.items() if (facts.family or t) == family)


def fallback_roles_of(family: str) -> tuple[str, ...]:
    """Who gets an alert of ``family`` whose target resolved to nobody (a family no event declares, such as a
    redacted notice or a mentor's nudge: the admins)."""
    for event_type, facts in ROUTABLE.items():
        if (facts.family or event_type) == family:
            return facts.fallback_roles
    return DEFAULT_FALLBACK_ROLES


def template_fields(template: str) -> set[str]:
    """The payload fields a title or link template reads."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(template: str, fields: Mapping[str, str]) -> str:
    """The template filled in; a field the payload lacks reads ``?`` (never a failed routing)."""
    return template.format_map(_Default(fields))


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"
