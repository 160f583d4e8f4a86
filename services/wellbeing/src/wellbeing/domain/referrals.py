"""Referrals to the counselling team (pure): who may raise which, the triage states, the service-level
deadline per urgency, and what the student and the referrer are allowed to see of one.

Two kinds: a student's own request for an appointment (``self``) and a concern raised by faculty, a mentor
or a peer student about a student (``concern``, "worried about a student"). Both are health data."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, get_args

from medsupport_shared.domain_errors import Unprocessable

ReferralKind = Literal["self", "concern"]
SelfReferralReason = Literal[
    "low_mood", "anxiety", "stress", "sleep", "relationships", "bereavement", "study_pressure", "other"
]
ConcernCategory = Literal["attendance", "wellbeing", "academic", "professionalism", "other"]
Urgency = Literal["today", "this_week", "whenever"]
ContactMethod = Literal["email", "phone", "in_person", "video"]
ReferralStatus = Literal["received", "accepted", "offered_times", "booked", "closed"]
TriageStatus = Literal["accepted", "offered_times", "booked", "closed"]
CloseOutcome = Literal["seen", "signposted", "declined_by_student", "unreachable", "no_action_needed", "other"]

REFERRAL_STATUSES: tuple[ReferralStatus, ...] = get_args(ReferralStatus)
# Each triage step moves forward only; closing is possible from any open state (the student may no longer
# need the appointment). A repeated step is refused, so a retried request cannot emit a second event.
NEXT_STATUSES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    "received": frozenset({"accepted", "closed"}),
    "accepted": frozenset({"offered_times", "booked", "closed"}),
    "offered_times": frozenset({"offered_times", "booked", "closed"}),  # new times may be offered
    "booked": frozenset({"closed"}),
    "closed": frozenset(),
}
# Roles that may raise a concern about a student; a student may raise one only about someone else.
CONCERN_RAISER_ROLES = ("faculty", "mentor", "student")


@dataclass(frozen=True)
class Deadlines:
    """Hours to first contact (a counsellor accepting the referral), per urgency; concerns use their own."""

    today: float
    this_week: float
    whenever: float
    concern: float

    def hours_for(self, *, kind: ReferralKind, urgency: Urgency) -> float:
        if kind == "concern":
            return self.concern
        return {"today": self.today, "this_week": self.this_week, "whenever": self.whenever}[urgency]


@dataclass(frozen=True)
class Referral:
    id: str
    kind: ReferralKind
    student_id: str
    category: str
    urgency: Urgency
    status: ReferralStatus
    created_at: datetime
    deadline_at: datetime
    version: int = 1
    cohort: str | None = None
    referrer_id: str | None = None
    """Concerns only: who raised it (shown to the counselling team and the audit, never to the student)."""
    first_contact_at: datetime | None = None
    offered_times: tuple[datetime, ...] = ()
    appointment_at: datetime | None = None
    closed_at: datetime | None = None
    outcome: str | None = None
    escalated_at: datetime | None = None
    contact: dict[str, object] = field(default_factory=dict)
    """Self-referrals: preferred contact method and times (not secret, but only for counselling)."""

    @property
    def open(self) -> bool:
        return self.status != "closed"


class TriageRefused(Unprocessable):
    """A triage step that the referral's state does not allow."""


def new_deadline(*, deadlines: Deadlines, kind: ReferralKind, urgency: Urgency, created_at: datetime) -> datetime:
    return created_at + timedelta(hours=deadlines.hours_for(kind=kind, urgency=urgency))


def alert_severity(*, kind: ReferralKind, urgency: Urgency) -> Literal["elevated", "routine"]:
    """A request for an appointment today must not wait for quiet hours to end; the rest are routine."""
    return "elevated" if kind == "self" and urgency == "today" else "routine"


def triage(
    referral: Referral,
    *,
    to: TriageStatus,
    at: datetime,
    offered_times: tuple[datetime, ...] = (),
    appointment_at: datetime | None = None,
    outcome: str | None = None,
) -> Referral:
    """The referral after one triage step; ``TriageRefused`` when the step is not allowed from its state."""
    if to not in NEXT_STATUSES[referral.status]:
        allowed: list[str] = sorted(NEXT_STATUSES[referral.status]) or ["nothing: it is closed"]
        raise TriageRefused(f"a {referral.status} referral can move to {', '.join(allowed)}, not {to}")
    if to == "offered_times" and not offered_times:
        raise TriageRefused("offered_times needs at least one offered time")
    if to == "booked" and appointment_at is None:
        raise TriageRefused("booked needs appointment_at")
    if to == "closed" and outcome is None:
        raise TriageRefused("closed needs an outcome")
    changed = replace(referral, status=to, version=referral.version + 1)
    if referral.first_contact_at is None:  # any step by a counsellor is the first contact
        changed = replace(changed, first_contact_at=at)
    if to == "offered_times":
        changed = replace(changed, offered_times=offered_times)
    if to == "booked":
        changed = replace(changed, appointment_at=appointment_at)
    if to == "closed":
        changed = replace(changed, closed_at=at, outcome=outcome)
    return changed


def deadline_missed(referral: Referral, *, now: datetime) -> bool:
    """Nobody has made first contact by the deadline, and this has not been escalated yet."""
    return (
        referral.open
        and referral.first_contact_at is None
        and referral.escalated_at is None
        and referral.deadline_at <= now
    )


@dataclass(frozen=True)
class HelpStatus:
    """What the student is told about one referral: its stage in plain words, never notes or the referrer."""

    state: Literal["received", "seen", "times_offered", "booked", "closed"]
    message: str
    expect_contact_by: datetime | None


def student_status(referral: Referral) -> HelpStatus:
    by = referral.deadline_at
    when = f"{by:%A %d %B %Y %H:%M} UTC"
    match referral.status:
        case "received":
            return HelpStatus("received", f"The counselling team has received this; expect contact by {when}.", by)
        case "accepted":
            return HelpStatus("seen", f"A counsellor has seen this; expect contact by {when}.", by)
        case "offered_times":
            return HelpStatus("times_offered", "A counsellor has offered appointment times; please choose one.", None)
        case "booked":
            return HelpStatus("booked", "Your appointment is booked.", None)
        case _:
            return HelpStatus("closed", "This is closed. You can ask for help again at any time.", None)


def referrer_status(referral: Referral) -> Literal["received", "closed"]:
    """A referrer learns only that the concern was received and, later, closed: never the outcome."""
    return "closed" if referral.status == "closed" else "received"


def may_raise_concern(*, roles: frozenset[str], referrer_id: str, student_id: str) -> str | None:
    """Why the caller may not raise this concern (None when they may)."""
    if not any(role in roles for role in CONCERN_RAISER_ROLES):
        return "only faculty, mentors and students may raise a concern about a student"
    if referrer_id == student_id:
        return "for yourself, ask for an appointment at POST /v1/me/referrals"
    return None
