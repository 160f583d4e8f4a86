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
from medsupport_shared.outbox import outbox_entry


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
        payload = ConcernTriageOverdue(
            concern_id=doc["_id"], category=doc["category"], anonymous=doc["anonymous"], due_at=due_at
        )
        # the event's time is the deadline itself, not the moment the sweep ran
        entry = outbox_entry(
            new_event(payload, source=ctx.source, event_id=triage_overdue_event_id(doc["_id"]), time=due_at)
        )
        entry["correlation_id"] = entry["traceparent"] = None
        if await ctx.concerns.mark_triage_overdue(concern_id=doc["_id"], entries=[entry]):
            await ctx.publish(CONCERNS, doc["_id"], [entry])
            escalated += 1
    ctx.sweeps["concern-triage"] = ctx.sweeps.get("concern-triage", 0) + 1
    return escalated
