"""Use case: a concern left untriaged past its deadline is escalated, once, from a sweep that survives
restarts (the mark and the event are written together on the concern)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from feedback.concern_repository import CONCERNS
from feedback.context import FeedbackContext
from feedback.domain.concerns import anonymous_timestamp
from medsupport_shared.event_types import ConcernTriageOverdue
from medsupport_shared.events import new_event, utcnow


def triage_overdue_event_id(concern_id: str) -> str:
    return hashlib.sha256(f"concern.triage_overdue|{concern_id}".encode()).hexdigest()[:32]


async def sweep_untriaged(ctx: FeedbackContext, *, now: datetime | None = None) -> int:
    now = now or utcnow()
    deadline = timedelta(hours=ctx.settings.concern_triage_hours)
    escalated = 0
    for doc in await ctx.concerns.untriaged_before(before=now - deadline):
        due_at = doc["created_at"] + deadline
        if doc["anonymous"]:  # like every time kept about an anonymous report: on the hour
            due_at = anonymous_timestamp(due_at)
        if await _escalate(ctx, doc["_id"], category=doc["category"], anonymous=doc["anonymous"], due_at=due_at):
            escalated += 1
    ctx.sweeps["concern-triage"] = ctx.sweeps.get("concern-triage", 0) + 1
    return escalated


async def _escalate(ctx: FeedbackContext, concern_id: str, *, category: str, anonymous: bool, due_at: datetime) -> bool:
    payload = ConcernTriageOverdue(concern_id=concern_id, category=category, anonymous=anonymous, due_at=due_at)
    # the event's time is the deadline itself, not the moment the sweep ran
    event = new_event(payload, source=ctx.source, event_id=triage_overdue_event_id(concern_id), time=due_at)
    return await ctx.record(
        CONCERNS,
        concern_id,
        lambda entries: ctx.concerns.mark_triage_overdue(concern_id=concern_id, entries=entries),
        event,
        anonymous=True,  # no correlation or trace id on an escalation, anonymous report or not
    )
