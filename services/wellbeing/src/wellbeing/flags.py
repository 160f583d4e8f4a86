"""Use cases of flags: raise the student's flag for a worrying check-in or update the open one, read and
resolve flags (audited), and the sweeps that finish flags a crash left pending.

Nothing lost: the flag document carries its own event in its outbox; a check-in whose flag a crash left
unraised (``flag_pending: true``) is finished by ``finish_pending_flags`` (idempotent: a flag remembers which
check-ins it has absorbed, and a flag it raised has the id ``flag_id_for(checkin)``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound
from medsupport_shared.event_types import FlagRaised, FlagResolved, FlagUpdated
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.side_by_side import both
from wellbeing import privacy
from wellbeing.context import WellbeingContext
from wellbeing.domain.flags import (
    Flag,
    FlagStatus,
    WorryingCheckin,
    flag_id_for,
    flag_raised_event_id,
    merged_flag,
    raised_flag,
    resolved_flag,
)
from wellbeing.metrics import CHECKIN_TO_FLAG_EVENT, FLAGS_OPEN
from wellbeing.repository import FLAGS, Document

Write = Callable[[list[Document]], Awaitable[bool]]
ATTEMPTS = 20
"""Optimistic-concurrency retries before a check-in's flag answers a conflict (the sweep finishes it)."""


async def apply_flag(
    *, ctx: WellbeingContext, checkin: WorryingCheckin, started: float | None = None, raised_at: datetime | None = None
) -> str:
    """Raise the student's flag, or update the open one; idempotent per check-in (a flag it raised has
    the id ``flag_id_for(checkin)``). ``raised_at``: when the flag was raised outside the store (the
    urgent spool), so it keeps its place in the queue."""
    started = started if started is not None else time.perf_counter()
    student_id, checkin_id, share_with_mentor = checkin.student_id, checkin.checkin_id, checkin.share_with_mentor
    flag_id = flag_id_for(checkin_id)
    for _ in range(ATTEMPTS):
        now = utcnow()
        # Both reads at once (the second is needed only when no flag is open): one round trip less before
        # an urgent flag is written.
        current, raised_already = await both(
            lambda: ctx.repo.open_flag(student_id=student_id), lambda: ctx.repo.flag(flag_id=flag_id)
        )
        if current is None:
            if raised_already is not None:  # raised already (and perhaps resolved since)
                await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=flag_id)
                return flag_id
            flag = raised_flag(checkin, at=raised_at or now)
            event = new_event(
                FlagRaised(
                    flag_id=flag.id,
                    student_id=student_id,
                    severity=flag.severity,
                    reasons=list(flag.reasons),
                    instrument=flag.instrument,
                    raised_at=flag.raised_at,
                    cohort=flag.cohort,
                    priority=flag.priority,
                    share_with_mentor=share_with_mentor,
                ),
                source=ctx.source,
                event_id=flag_raised_event_id(checkin_id),
            )
            measured = _measure_latency(started, flag.severity)
            if await ctx.changes.record(FLAGS, flag.id, _insert(ctx, flag), event, on_published=measured):
                await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=flag.id)
                return flag.id
            continue  # another check-in opened the flag first: update it instead
        if checkin_id in current.checkin_ids:
            await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=current.id)
            return current.id
        after = merged_flag(current, checkin, at=now)
        updated = FlagUpdated(
            flag_id=current.id,
            student_id=student_id,
            severity=after.severity,
            reasons=list(after.reasons),
            instrument=after.instrument,
            updated_at=now,
            cohort=current.cohort,
            priority=after.priority,
            share_with_mentor=share_with_mentor,
        )
        write = _update(ctx, current, after, checkin_id)
        if await ctx.changes.record(
            FLAGS, current.id, write, updated, on_published=_measure_latency(started, after.severity)
        ):
            await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=current.id)
            return current.id
    raise Conflict("the student's flag kept changing; retry")


def _insert(ctx: WellbeingContext, flag: Flag) -> Write:
    async def write(entries: list[Document]) -> bool:
        return await ctx.repo.insert_flag(flag=flag, entries=entries)

    return write


def _update(ctx: WellbeingContext, before: Flag, after: Flag, checkin_id: str) -> Write:
    async def write(entries: list[Document]) -> bool:
        return await ctx.repo.update_open_flag(before=before, after=after, checkin_id=checkin_id, entries=entries)

    return write


def _measure_latency(started: float, severity: str) -> Callable[[bool], None]:
    """Time from receiving the check-in to its flag event acknowledged by Kafka (only when it left)."""

    def observe(published: bool) -> None:
        if published:
            CHECKIN_TO_FLAG_EVENT.labels(severity).observe(time.perf_counter() - started)

    return observe


async def flag_queue(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    status: FlagStatus,
    limit: int | None,
    cursor: str | None,
    purpose: str | None,
) -> tuple[list[Flag], str | None]:
    """A page of the counselling queue; the read is audited, one entry per student on the page."""
    page, next_cursor = await ctx.repo.page_flags(status=status, limit=limit, cursor=cursor)
    await privacy.audit_reads(
        ctx=ctx,
        principal=principal,
        action="list_flags",
        purpose=purpose or f"{status} flag queue",
        records=[(f.student_id, f.id) for f in page],
        erased=[f.student_id for f in page if f.erasure_pending],
    )
    return page, next_cursor


async def read_flag(*, ctx: WellbeingContext, principal: Principal, flag_id: str, purpose: str | None) -> Flag:
    flag = await ctx.repo.flag(flag_id=flag_id)
    if flag is None:
        raise NotFound("no flag with that id")
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="read_flag",
        student_id=flag.student_id,
        purpose=purpose or "flag review",
        record_ids=[flag_id],
        pseudonymous=flag.erasure_pending,  # kept past its student's erasure
    )
    return flag


async def resolve_flag(
    *, ctx: WellbeingContext, principal: Principal, flag_id: str, outcome: str, note: str | None
) -> Flag:
    flag = await ctx.repo.flag(flag_id=flag_id)
    if flag is None:
        raise NotFound("no flag with that id")
    if not flag.is_open:
        raise Conflict("the flag is already resolved")
    now = utcnow()
    after = resolved_flag(flag, by=principal.sub, outcome=outcome, sealed_note=ctx.cipher.encrypt(note), at=now)
    event = FlagResolved(
        flag_id=flag_id, student_id=flag.student_id, resolved_at=now, outcome=outcome, cohort=flag.cohort
    )

    async def write(entries: list[Document]) -> bool:
        return await ctx.repo.resolve_flag(before=flag, after=after, entries=entries)

    if not await ctx.changes.record(FLAGS, flag_id, write, event):
        raise Conflict("the flag changed while resolving; reload and retry")
    await privacy.audit_read(  # the reply shows the flag's reasons: a read like any other
        ctx=ctx,
        principal=principal,
        action="resolve_flag",
        student_id=after.student_id,
        purpose=f"resolution: {outcome}",
        record_ids=[flag_id],
        pseudonymous=after.erasure_pending,  # the sweep may erase it before this entry is written
    )
    return after


async def finish_pending_flags(*, ctx: WellbeingContext) -> int:
    """Sweep: flags that a crash left unraised for worrying check-ins."""
    grace = timedelta(seconds=ctx.settings.flag_sweep_grace_seconds)
    pending = await ctx.repo.pending_flag_checkins(older_than=utcnow() - grace)
    for checkin in pending:
        await apply_flag(ctx=ctx, checkin=checkin)
    return len(pending)


async def refresh_open_flag_gauge(*, ctx: WellbeingContext) -> None:
    for severity, count in (await ctx.repo.count_open_flags()).items():
        FLAGS_OPEN.labels(severity).set(count)
