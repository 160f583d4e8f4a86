"""Use cases of consent, reminders, the audit trail, erasure and retention."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from medsupport_shared.auth import Principal
from medsupport_shared.event_types import CheckinReminderDue, StudentErasureRequested
from medsupport_shared.events import CloudEvent, utcnow
from wellbeing.context import WellbeingContext
from wellbeing.repository import REMINDERS, Document


def _audit_entry(
    *, principal: Principal, action: str, student_id: str | None, purpose: str, record_ids: list[str], at: datetime
) -> Document:
    return {
        "_id": uuid.uuid4().hex,
        "actor_id": principal.sub,
        "actor_roles": sorted(principal.roles),
        "action": action,
        "student_id": student_id,
        "record_ids": record_ids,
        "purpose": purpose,
        "at": at,
        "created_at": at,
    }


async def audit_read(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    action: str,
    student_id: str | None,
    purpose: str,
    record_ids: list[str] | None = None,
    pseudonymous: bool = False,
) -> None:
    """Every staff read of a student's sensitive records: who, what, when, why. ``pseudonymous`` keeps
    the student's keyed pseudonym instead of the id (a read that may name an erased student)."""
    entry = _audit_entry(
        principal=principal,
        action=action,
        student_id=student_id,
        purpose=purpose,
        record_ids=record_ids or [],
        at=utcnow(),
    )
    if pseudonymous and student_id is not None:
        entry["student_id"], entry["student_ref"] = None, audit_pseudonym(ctx, student_id)
    await ctx.repo.record_audit(entry=entry)


async def audit_reads(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    action: str,
    purpose: str,
    records: Iterable[tuple[str, str]],
    erased: Iterable[str] = (),
) -> None:
    """A read of several students' records (a list): one entry per student, naming that student's
    records (``erased`` students, whose urgent flag outlives their erasure, by pseudonym only), so each
    student's trail shows the read. Nothing read, nothing written."""
    by_student: dict[str, list[str]] = {}
    for student_id, record_id in records:
        by_student.setdefault(student_id, []).append(record_id)
    if not by_student:
        return
    now, pseudonymous = utcnow(), set(erased)
    entries = []
    for student, ids in by_student.items():
        entry = _audit_entry(
            principal=principal, action=action, student_id=student, purpose=purpose, record_ids=ids, at=now
        )
        if student in pseudonymous:
            entry["student_id"], entry["student_ref"] = None, audit_pseudonym(ctx, student)
        entries.append(entry)
    await ctx.repo.record_audits(entries=entries)


async def audit_trail(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    student_id: str | None,
    limit: int | None,
    cursor: str | None,
    purpose: str | None,
) -> tuple[list[Document], str | None]:
    """The trail, or one student's (entries naming them and, after their erasure, their pseudonym); who read
    the trail is itself on the trail."""
    ref = audit_pseudonym(ctx, student_id) if student_id else None
    items, next_cursor = await ctx.repo.page_audit(student_id=student_id, student_ref=ref, limit=limit, cursor=cursor)
    await audit_read(
        ctx=ctx,
        principal=principal,
        action="read_audit",
        student_id=student_id,
        purpose=purpose or "audit review",
        record_ids=[i["_id"] for i in items],
        pseudonymous=True,  # the student may have been erased: never write their id back
    )
    return items, next_cursor


async def consent_of(*, ctx: WellbeingContext, student_id: str) -> dict[str, Any]:
    return consent_view(await ctx.repo.consent(student_id=student_id))


async def record_consent(*, ctx: WellbeingContext, student_id: str, choices: dict[str, Any]) -> dict[str, Any]:
    saved = await ctx.repo.save_consent(student_id=student_id, consent={**choices, "updated_at": utcnow()})
    return consent_view(saved)


async def reminder_of(*, ctx: WellbeingContext, student_id: str) -> Document:
    return await ctx.repo.reminder(student_id=student_id) or {"cadence_days": None, "next_due_at": None}


async def set_reminder(*, ctx: WellbeingContext, student_id: str, cadence_days: int | None) -> Document:
    now = utcnow()
    next_due = now + timedelta(days=cadence_days) if cadence_days else None
    await ctx.repo.save_reminder(student_id=student_id, cadence_days=cadence_days, next_due_at=next_due)
    return {"cadence_days": cadence_days, "next_due_at": next_due}


async def send_due_reminders(*, ctx: WellbeingContext) -> int:
    """Sweep: one ``checkin.reminder_due`` per due time, also across restarts and instances."""
    sent = 0
    now = utcnow()
    for reminder in await ctx.repo.due_reminders(now=now):
        cadence = reminder.get("cadence_days")
        if not cadence:
            continue
        reminder_id = hashlib.sha256(f"{reminder['_id']}|{reminder['next_due_at'].isoformat()}".encode()).hexdigest()[
            :32
        ]
        due = CheckinReminderDue(
            student_id=reminder["_id"], due_at=reminder["next_due_at"], cadence_days=cadence, reminder_id=reminder_id
        )
        if await ctx.changes.record(
            REMINDERS, reminder["_id"], _advance(ctx, reminder, now + timedelta(days=cadence)), due
        ):
            sent += 1
    return sent


def _advance(
    ctx: WellbeingContext, reminder: Document, next_due_at: datetime
) -> Callable[[list[Document]], Awaitable[bool]]:
    async def write(entries: list[Document]) -> bool:
        return await ctx.repo.advance_reminder(reminder=reminder, next_due_at=next_due_at, entries=entries)

    return write


def audit_pseudonym(ctx: WellbeingContext, student_id: str) -> str:
    """The keyed hash that replaces an erased student's id in the audit trail: stable, so that the
    wellbeing lead who is given the id (a complaint, an inquiry) still finds who read that student's
    records; useless without the service's key. Derived from the first DATA_ENCRYPTION_KEY."""
    key = ctx.settings.data_encryption_key.get_secret_value().split(",")[0].strip().encode()
    return hmac.new(key, f"audit-student\x1f{student_id}".encode(), hashlib.sha256).hexdigest()


async def erase_student(
    *, ctx: WellbeingContext, event: CloudEvent, payload: StudentErasureRequested
) -> dict[str, int]:
    fact = {
        "_id": f"erasure:{event.id}",
        "action": "erased",
        "student_id": payload.student_id,
        "actor_id": payload.requested_by,
        "actor_roles": [],
        "purpose": "erasure request",
        "record_ids": [],
        "at": payload.requested_at,
        "created_at": utcnow(),
    }
    replies = await ctx.idempotency.forget_owner(payload.student_id)
    erased = await ctx.repo.erase_student(
        student_id=payload.student_id, student_ref=audit_pseudonym(ctx, payload.student_id), fact=fact
    )
    pseudonym = audit_pseudonym(ctx, payload.student_id)
    # The concerns the student raised are relabelled before the referrals about them go, so that once nothing
    # about the student is left, nothing of theirs is named anywhere either.
    actor = await ctx.repo.pseudonymise_actor(actor_id=payload.student_id, actor_ref=pseudonym)
    seats = await ctx.workshops.erase_student(student_id=payload.student_id)
    referrals = await ctx.referrals.erase_student(student_id=payload.student_id, referrer_ref=pseudonym)
    return {
        **erased,
        **referrals,
        "workshop_seats": seats,
        "audit_actor_pseudonymised": actor,
        "idempotency_replies": replies,
    }


async def erase_kept_flags(*, ctx: WellbeingContext) -> int:
    """Sweep: an urgent flag kept past its student's erasure is erased once a counsellor has resolved it
    and its ``flag.resolved`` is out; the reads made during the follow-up join the pseudonymised trail."""
    erased = 0
    for flag_id, student_id in await ctx.repo.resolved_flags_pending_erasure():
        if await ctx.repo.delete_flag(flag_id=flag_id):
            await ctx.repo.pseudonymise_audit(student_id=student_id, student_ref=audit_pseudonym(ctx, student_id))
            erased += 1
    return erased


async def enforce_retention(*, ctx: WellbeingContext) -> int:
    cutoff = utcnow() - timedelta(days=ctx.settings.retention_days)
    deleted = 0
    for student_id in await ctx.repo.students_past_retention(cutoff=cutoff):
        deleted += await ctx.repo.delete_checkins(student_id=student_id)
    await ctx.repo.purge_published_receipts(older_than=utcnow() - timedelta(minutes=5))
    await ctx.repo.delete_audit_before(cutoff=utcnow() - timedelta(days=ctx.settings.audit_retention_days))
    return deleted


def consent_view(doc: Document | None) -> dict[str, Any]:
    doc = doc or {}
    return {
        "store_checkins": bool(doc.get("store_checkins")),
        "share_flags_with_mentor": bool(doc.get("share_flags_with_mentor")),
        "updated_at": doc.get("updated_at"),
    }
