"""Routing rules as data, their validation, and which rules match an event (pure)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medsupport_shared.auth import Role
from notifications.domain.event_facts import ROUTABLE


class Channel(StrEnum):
    INAPP = "inapp"
    EMAIL = "email"
    WEBHOOK = "webhook"


TargetKind = Literal[
    "staff", "role", "rota", "student", "mentor", "mentee", "assessor", "author", "reporter", "director"
]
PERSON_KINDS = {"student", "mentor", "mentee", "assessor", "author", "reporter", "director"}


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)
    kind: TargetKind
    value: str | None = Field(
        default=None,
        description="the staff id, role or rota team; empty for people "
        "named by the event (student, mentor, mentee, assessor, author, reporter)",
    )

    def label(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


class EscalationStep(BaseModel):
    model_config = ConfigDict(frozen=True)
    after_minutes: float = Field(gt=0, description="minutes after the alert was created, unacknowledged")
    target: Target
    working_days_only: bool = Field(
        default=False,
        description="count only Monday–Friday time (in WORKING_TIMEZONE): 1440 minutes is one working day",
    )


RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9._-]*$"


class RouteRule(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "cohort-2027-urgent-to-lead",
                    "description": "Urgent flags of the class of 2027 also go to the lead",
                    "event_types": ["flag.raised", "flag.updated"],
                    "severities": ["urgent"],
                    "cohorts": ["2027"],
                    "target": {"kind": "role", "value": "wellbeing_lead"},
                    "channels": ["inapp", "email"],
                    "escalation": [{"after_minutes": 20, "target": {"kind": "role", "value": "admin"}}],
                }
            ]
        },
    )
    id: str = Field(min_length=1, max_length=80, pattern=RULE_ID_PATTERN)
    description: str = ""
    event_types: tuple[str, ...] = Field(min_length=1)
    severities: tuple[str, ...] = Field(default=(), description="empty: any severity")
    cohorts: tuple[str, ...] = Field(default=(), description="empty: any cohort")
    categories: tuple[str, ...] = Field(default=(), description="concern events only: their categories; empty: any")
    target: Target
    channels: tuple[Channel, ...] = Field(min_length=1)
    escalation: tuple[EscalationStep, ...] = ()
    ack_expected_minutes: float | None = None
    enabled: bool = True


CATEGORISED = frozenset(t for t, facts in ROUTABLE.items() if facts.categorised)
"""Event types that carry a concern category a rule may match."""
KNOWN_ROLES = frozenset(r.value for r in Role)


def rule_problems(rule: RouteRule, *, staff_ids: set[str], rota_teams: set[str]) -> list[str]:
    """Why a rule could match nobody (empty when it is sound)."""
    problems = []
    for event_type in rule.event_types:
        if event_type not in ROUTABLE:
            problems.append(f"event type {event_type!r} is not routable; known: {sorted(ROUTABLE)}")
            continue
        severities, people = ROUTABLE[event_type].severities, ROUTABLE[event_type].targetable
        if rule.categories and event_type not in CATEGORISED:
            problems.append(f"{event_type} has no category")
        if rule.severities and not set(rule.severities) & severities:
            problems.append(f"{event_type} never has severity {sorted(rule.severities)}")
        for target in (rule.target, *(step.target for step in rule.escalation)):
            if target.kind in PERSON_KINDS and target.kind not in people:
                problems.append(f"{event_type} names no {target.kind}")
    for target in (rule.target, *(step.target for step in rule.escalation)):
        problems += _target_problems(target, staff_ids=staff_ids, rota_teams=rota_teams)
    times = [step.after_minutes for step in rule.escalation]
    if times != sorted(set(times)):
        problems.append("escalation steps must come at strictly increasing times")
    if len(set(rule.channels)) != len(rule.channels):
        problems.append("a channel is listed twice")
    return problems


def _target_problems(target: Target, *, staff_ids: set[str], rota_teams: set[str]) -> list[str]:
    if target.kind in PERSON_KINDS:
        return [] if target.value is None else [f"a {target.kind} target takes no value"]
    if not target.value:
        return [f"a {target.kind} target needs a value"]
    if target.kind == "role" and target.value not in KNOWN_ROLES:
        return [f"unknown role {target.value!r}"]
    if target.kind == "staff" and target.value not in staff_ids:
        return [f"no staff member {target.value!r} is registered"]
    if target.kind == "rota" and target.value not in rota_teams:
        return [f"no rota for team {target.value!r}"]
    return []


def matching_rules(
    rules: list[RouteRule], *, event_type: str, severity: str, cohort: str | None, category: str | None = None
) -> list[RouteRule]:
    return [
        rule
        for rule in rules
        if rule.enabled
        and event_type in rule.event_types
        and (not rule.severities or severity in rule.severities)
        and (not rule.cohorts or cohort in rule.cohorts)
        and (not rule.categories or category in rule.categories)
    ]


ALL_CHANNELS = (Channel.INAPP, Channel.EMAIL, Channel.WEBHOOK)
ROUTINE = (Channel.INAPP, Channel.EMAIL)


def _rule(
    rule_id: str, types: tuple[str, ...], target: Target, channels: tuple[Channel, ...] = ROUTINE, **extra: object
) -> RouteRule:
    return RouteRule.model_validate(
        {"id": rule_id, "event_types": types, "target": target, "channels": channels, **extra}
    )


DEFAULT_RULES: tuple[RouteRule, ...] = (
    _rule(
        "wellbeing-urgent",
        ("flag.raised", "flag.updated"),
        Target(kind="rota", value="counselling"),
        ALL_CHANNELS,
        severities=("urgent",),
        description="Urgent flag: the on-call counsellor at once on every channel; escalate to the wellbeing "
        "lead after 15 minutes unacknowledged, then to admin after 30 (a notice without health data).",
        escalation=(
            EscalationStep(after_minutes=15, target=Target(kind="role", value="wellbeing_lead")),
            EscalationStep(after_minutes=30, target=Target(kind="role", value="admin")),
        ),
    ),
    _rule(
        "wellbeing-elevated",
        ("flag.raised", "flag.updated"),
        Target(kind="role", value="counsellor"),
        severities=("elevated",),
        ack_expected_minutes=24 * 60,
        description="Elevated flag: the counselling team's inbox and email; acknowledgement expected within "
        "one working day, else the wellbeing lead is told.",
        escalation=(
            EscalationStep(
                after_minutes=24 * 60, working_days_only=True, target=Target(kind="role", value="wellbeing_lead")
            ),
        ),
    ),
    _rule(
        "wellbeing-mentor",
        ("flag.raised",),
        Target(kind="mentor"),
        description="A flag raised for a student who consented to share flags with their mentor: the mentor "
        "gets a gentle, routine nudge (no reasons, no severity detail, a link to the mentorship).",
    ),
    _rule(
        "concern-raised",
        ("concern.raised",),
        Target(kind="role", value="concerns_officer"),
        description="A concern report: the concerns officers.",
    ),
    _rule(
        "concern-equity",
        ("concern.raised", "concern.triage_overdue"),
        Target(kind="role", value="equity"),
        categories=("discrimination", "bias"),
        description="Discrimination and bias reports also go to the equity office (category only, never text).",
    ),
    _rule(
        "concern-professionalism",
        ("concern.raised", "concern.triage_overdue"),
        Target(kind="role", value="professionalism_lead"),
        categories=("professionalism",),
        description="Professionalism reports also go to the professionalism lead.",
    ),
    _rule(
        "concern-triage-overdue",
        ("concern.triage_overdue",),
        Target(kind="role", value="admin"),
        description="A concern still untriaged at its deadline (CONCERN_TRIAGE_HOURS): escalated to admins.",
    ),
    _rule(
        "concern-updated",
        ("concern.updated",),
        Target(kind="reporter"),
        description="A named reporter hears about their concern's progress (anonymous reporters use their code).",
    ),
    _rule("mentor-assigned-mentor", ("mentor.assigned",), Target(kind="mentor")),
    _rule("mentor-assigned-mentee", ("mentor.assigned",), Target(kind="mentee")),
    _rule("mentorship-ended-mentor", ("mentorship.ended",), Target(kind="mentor")),
    _rule("mentorship-ended-mentee", ("mentorship.ended",), Target(kind="mentee")),
    _rule("meeting-reminder-mentor", ("meeting.reminder_due",), Target(kind="mentor")),
    _rule("meeting-reminder-mentee", ("meeting.reminder_due",), Target(kind="mentee")),
    _rule(
        "feedback-submitted",
        ("feedback.submitted",),
        Target(kind="student"),
        description="Feedback received: the student.",
    ),
    _rule("feedback-requested", ("feedback.requested",), Target(kind="assessor")),
    _rule(
        "feedback-overdue",
        ("feedback.overdue",),
        Target(kind="assessor"),
        description="An overdue feedback request: the assessor is reminded.",
    ),
    _rule(
        "referral-received",
        ("referral.received",),
        Target(kind="role", value="counsellor"),
        description="A student asked for an appointment, or someone is worried about a student: the counselling "
        "team (a request for today is elevated, so quiet hours never defer it).",
    ),
    _rule(
        "referral-deadline-missed",
        ("referral.deadline_missed",),
        Target(kind="role", value="wellbeing_lead"),
        description="Nobody contacted a referred student by the service-level deadline: the wellbeing lead.",
    ),
    _rule(
        "referral-student-notice",
        ("referral.student_notice",),
        Target(kind="student"),
        description="Someone raised a concern about a student: the student is told, in the institution's words, "
        "that someone will reach out (never who or why).",
    ),
    _rule(
        "workshop-reminder",
        ("workshop.reminder_due",),
        Target(kind="student"),
        description="A workshop session the student signed up for starts soon.",
    ),
    _rule(
        "climate-invited",
        ("climate.invited",),
        Target(kind="student"),
        description="A rotation ended: its student is invited to answer the climate pulse.",
    ),
    _rule(
        "climate-alert-director",
        ("climate.alert_raised",),
        Target(kind="director"),
        description="A site's climate worsened or concern reports clustered: the clerkship director its rotations name.",
    ),
    _rule(
        "climate-alert-clerkship-directors",
        ("climate.alert_raised",),
        Target(kind="role", value="clerkship_director"),
        description="The same alert to the clerkship directors' role (falls back to admins when nobody holds it), "
        "so an alert about a site whose rotations name no director still reaches someone.",
    ),
    _rule(
        "suggestion-updated",
        ("suggestion.updated",),
        Target(kind="author"),
        description="A named student's suggestion was answered or moved (anonymous authors follow the board).",
    ),
    _rule(
        "checkin-reminder",
        ("checkin.reminder_due",),
        Target(kind="student"),
        description="The student's chosen check-in cadence came round.",
    ),
)
