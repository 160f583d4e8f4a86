"""Use cases of referrals: a student asks for an appointment, someone raises a concern about a student, a
counsellor triages, the sweep escalates missed deadlines, and what the student and the referrer may see.

Each change is one single-document write carrying its events in the document's outbox (nothing lost); the
sweep's state (``escalated_at``) is on the referral, so a restart escalates what came due while it was down,
once. Events carry ids, codes and times, never the note, the description or who raised a concern."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from medsupport_shared.auth import Principal
from medsupport_shared.event_types import (
    ReferralDeadlineMissed,
    ReferralReceived,
    ReferralStudentNotice,
    ReferralTriaged,
)
from medsupport_shared.events import EventData, new_event, utcnow
from medsupport_shared.outbox import outbox_entry
from wellbeing import privacy
from wellbeing.checkins import WellbeingContext
from wellbeing.domain.referral_stats import MonthFigures, first_month_start, monthly_figures
from wellbeing.domain.referrals import (
    ConcernCategory,
    ContactMethod,
    Deadlines,
    HelpStatus,
    Referral,
    SelfReferralReason,
    TriageStatus,
    Urgency,
    alert_severity,
    deadline_missed,
    may_raise_concern,
    new_deadline,
    student_status,
    triage,
)
from wellbeing.referral_repository import REFERRALS, Document


class ReferralNotFound(LookupError):
    pass


class ReferralChanged(RuntimeError):
    """Someone else triaged the referral meanwhile."""


class ConcernRefused(ValueError):
    pass


@dataclass(frozen=True)
class RateLimited(Exception):
    limit: int
    window_seconds: float
    retry_after: int


def deadlines(ctx: WellbeingContext) -> Deadlines:
    hours = ctx.settings.referral_deadline_hours
    return Deadlines(today=hours.today, this_week=hours.this_week, whenever=hours.whenever, concern=hours.concern)


def _entry(ctx: WellbeingContext, data: EventData) -> Document:
    return outbox_entry(new_event(data, source=ctx.source))


def _received(referral: Referral) -> ReferralReceived:
    return ReferralReceived(
        referral_id=referral.id,
        student_id=referral.student_id,
        kind=referral.kind,
        category=referral.category,
        urgency=referral.urgency,
        severity=alert_severity(kind=referral.kind, urgency=referral.urgency),
        deadline_at=referral.deadline_at,
        received_at=referral.created_at,
        cohort=referral.cohort,
    )


async def request_appointment(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    reason: SelfReferralReason,
    urgency: Urgency,
    contact_method: ContactMethod,
    preferred_times: str | None,
    note: str | None,
) -> Referral:
    """A student's own request for a counselling appointment."""
    now = utcnow()
    referral = Referral(
        id=uuid.uuid4().hex,
        kind="self",
        student_id=principal.sub,
        category=reason,
        urgency=urgency,
        status="received",
        created_at=now,
        deadline_at=new_deadline(deadlines=deadlines(ctx), kind="self", urgency=urgency, created_at=now),
        cohort=principal.cohort,
        contact={"method": contact_method, "preferred_times": preferred_times},
    )
    return await _store_new(ctx, referral, sealed={"note": ctx.cipher.encrypt(note)}, extra=[])


async def raise_concern(
    *, ctx: WellbeingContext, principal: Principal, student_id: str, category: ConcernCategory, description: str
) -> Referral:
    """Faculty, a mentor or a peer student is worried about a student. Rate-limited per referrer; who
    referred whom goes to the audit trail (read by the wellbeing lead), never to the student."""
    refused = may_raise_concern(roles=principal.roles, referrer_id=principal.sub, student_id=student_id)
    if refused:
        raise ConcernRefused(refused)
    limit, window = ctx.settings.referral_rate_limit, ctx.settings.referral_rate_window_seconds
    hit = await ctx.counters.hit("referrals.concern", principal.sub, window_seconds=window)
    if hit.count > limit:
        raise RateLimited(limit, window, hit.retry_after)
    now = utcnow()
    referral = Referral(
        id=uuid.uuid4().hex,
        kind="concern",
        student_id=student_id,
        category=category,
        urgency="this_week",
        status="received",
        created_at=now,
        deadline_at=new_deadline(deadlines=deadlines(ctx), kind="concern", urgency="this_week", created_at=now),
        referrer_id=principal.sub,
    )
    notice = ReferralStudentNotice(
        referral_id=referral.id, student_id=student_id, message=ctx.settings.referral_student_message, noticed_at=now
    )
    stored = await _store_new(
        ctx, referral, sealed={"description": ctx.cipher.encrypt(description)}, extra=[_entry(ctx, notice)]
    )
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="referral.raised",
        student_id=student_id,
        purpose=f"raised a {category} concern",
        record_ids=[referral.id],
    )
    return stored


async def _store_new(ctx: WellbeingContext, referral: Referral, *, sealed: Document, extra: list[Document]) -> Referral:
    entries = [_entry(ctx, _received(referral)), *extra]
    await ctx.referrals.insert(referral=referral, sealed=sealed, entries=entries)
    ctx.outbox.dispatch(REFERRALS, referral.id, entries)
    return referral


async def triage_referral(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    referral_id: str,
    to: TriageStatus,
    offered_times: tuple[datetime, ...],
    appointment_at: datetime | None,
    outcome: str | None,
    note: str | None,
) -> tuple[Referral, Document]:
    found = await ctx.referrals.get(referral_id=referral_id)
    if found is None:
        raise ReferralNotFound(referral_id)
    before, doc = found
    now = utcnow()
    after = triage(before, to=to, at=now, offered_times=offered_times, appointment_at=appointment_at, outcome=outcome)
    event = ReferralTriaged(
        referral_id=after.id,
        student_id=after.student_id,
        kind=after.kind,
        status=to,
        triaged_at=now,
        cohort=after.cohort,
    )
    sealed = ctx.cipher.encrypt(f"{principal.sub}: {note}") if note else None
    entry = _entry(ctx, event)
    if not await ctx.referrals.save_step(before=before, after=after, staff_note=sealed, entry=entry):
        raise ReferralChanged(referral_id)
    ctx.outbox.dispatch(REFERRALS, referral_id, [entry])
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action=f"referral.{to}",
        student_id=after.student_id,
        purpose="referral triage",
        record_ids=[referral_id],
    )
    notes = [*doc.get("staff_notes", []), *([sealed] if sealed else [])]
    return after, {**doc, "staff_notes": notes}


async def escalate_missed_deadlines(*, ctx: WellbeingContext) -> int:
    """Sweep: every referral nobody contacted by its deadline is escalated once (``referral.deadline_missed``)."""
    now, escalated = utcnow(), 0
    for referral in await ctx.referrals.untriaged_past_deadline(now=now):
        if not deadline_missed(referral, now=now):
            continue
        event = ReferralDeadlineMissed(
            referral_id=referral.id,
            student_id=referral.student_id,
            kind=referral.kind,
            category=referral.category,
            urgency=referral.urgency,
            deadline_at=referral.deadline_at,
            missed_at=now,
            severity=alert_severity(kind=referral.kind, urgency=referral.urgency),
            cohort=referral.cohort,
        )
        entry = _entry(ctx, event)
        if await ctx.referrals.mark_escalated(referral=referral, at=now, entry=entry):
            await ctx.outbox.flush(REFERRALS, referral.id, [entry])
            escalated += 1
    return escalated


@dataclass(frozen=True)
class StudentReferralView:
    referral: Referral
    about_you: bool
    """Raised by someone else (whose identity is never shown)."""
    status: HelpStatus


async def referrals_for_student(*, ctx: WellbeingContext, student_id: str) -> list[StudentReferralView]:
    return [
        StudentReferralView(r, r.kind == "concern", student_status(r))
        for r in await ctx.referrals.of_student(student_id=student_id)
    ]


async def figures_by_month(*, ctx: WellbeingContext, months: int) -> list[MonthFigures]:
    now = utcnow()
    found = await ctx.referrals.created_between(start=first_month_start(now, months), end=now)
    return monthly_figures(found, now=now, months=months, min_group_size=ctx.settings.min_group_size)
