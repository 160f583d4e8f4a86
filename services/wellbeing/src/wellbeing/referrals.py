"""Use cases of referrals: a student asks for an appointment, someone raises a concern about a student, a
counsellor triages, the sweep escalates missed deadlines, and what the student and the referrer may see.

Each change is one single-document write carrying its events in the document's outbox (nothing lost); the
sweep's state (``escalated_at``) is on the referral, so a restart escalates what came due while it was down,
once. Events carry ids, codes and times, never the note, the description or who raised a concern."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, TooManyRequests, Unprocessable
from medsupport_shared.event_types import (
    ReferralDeadlineMissed,
    ReferralReceived,
    ReferralStudentNotice,
    ReferralTriaged,
)
from medsupport_shared.events import EventData, utcnow
from wellbeing import privacy
from wellbeing.context import WellbeingContext
from wellbeing.domain.flags import Flag
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

REFERRAL_NOT_FOUND = "no referral with that id"


def deadlines(ctx: WellbeingContext) -> Deadlines:
    hours = ctx.settings.referral_deadline_hours
    return Deadlines(today=hours.today, this_week=hours.this_week, whenever=hours.whenever, concern=hours.concern)


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
        raise Unprocessable(refused)
    limit, window = ctx.settings.referral_rate_limit, ctx.settings.referral_rate_window_seconds
    hit = await ctx.counters.hit("referrals.concern", principal.sub, window_seconds=window)
    if hit.count > limit:
        raise TooManyRequests(
            f"at most {limit} concerns per {int(window)} seconds; try again later", retry_after=hit.retry_after
        )
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
    stored = await _store_new(ctx, referral, sealed={"description": ctx.cipher.encrypt(description)}, extra=[notice])
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="referral.raised",
        student_id=student_id,
        purpose=f"raised a {category} concern",
        record_ids=[referral.id],
    )
    return stored


async def _store_new(
    ctx: WellbeingContext, referral: Referral, *, sealed: Document, extra: list[EventData]
) -> Referral:
    async def insert(entries: list[Document]) -> bool:
        return await ctx.referrals.insert(referral=referral, sealed=sealed, entries=entries)

    await ctx.changes.record(REFERRALS, referral.id, insert, _received(referral), *extra)
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
        raise NotFound(REFERRAL_NOT_FOUND)
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

    async def save(entries: list[Document]) -> bool:
        return await ctx.referrals.save_step(before=before, after=after, staff_note=sealed, entries=entries)

    if not await ctx.changes.record(REFERRALS, referral_id, save, event):
        raise Conflict("the referral changed meanwhile; reload and retry")
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
        if await ctx.changes.record(REFERRALS, referral.id, _escalate(ctx, referral, now), event, wait=True):
            escalated += 1
    return escalated


def _escalate(ctx: WellbeingContext, referral: Referral, at: datetime) -> Callable[[list[Document]], Awaitable[bool]]:
    async def write(entries: list[Document]) -> bool:
        return await ctx.referrals.mark_escalated(referral=referral, at=at, entries=entries)

    return write


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


@dataclass(frozen=True)
class HelpOverview:
    """Where a student's requests for help stand: their open flag and their referrals."""

    open_flag: Flag | None
    referrals: list[StudentReferralView]


async def help_status(*, ctx: WellbeingContext, student_id: str) -> HelpOverview:
    flag = await ctx.repo.open_flag(student_id=student_id)
    return HelpOverview(flag, await referrals_for_student(ctx=ctx, student_id=student_id))


async def raised_by(
    *, ctx: WellbeingContext, referrer_id: str, limit: int | None, cursor: str | None
) -> tuple[list[Referral], str | None]:
    """The concerns someone raised (they see only that each was received or closed)."""
    return await ctx.referrals.raised_by(referrer_id=referrer_id, limit=limit, cursor=cursor)


async def referral_queue(
    *, ctx: WellbeingContext, principal: Principal, open_only: bool, limit: int | None, cursor: str | None
) -> tuple[list[tuple[Referral, Document]], str | None]:
    """A page of the referral queue for the counselling team; the read is audited per student."""
    page, next_cursor = await ctx.referrals.page_queue(open_only=open_only, limit=limit, cursor=cursor)
    await privacy.audit_reads(
        ctx=ctx,
        principal=principal,
        action="referrals.list",
        purpose="referral queue",
        records=[(r.student_id, r.id) for r, _ in page],
    )
    return page, next_cursor


async def figures_by_month(*, ctx: WellbeingContext, months: int) -> list[MonthFigures]:
    now = utcnow()
    found = await ctx.referrals.created_between(start=first_month_start(now, months), end=now)
    return monthly_figures(found, now=now, months=months, min_group_size=ctx.settings.min_group_size)
