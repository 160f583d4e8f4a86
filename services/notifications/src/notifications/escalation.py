"""Use cases: escalate the alerts nobody acknowledged in time (a sweep; the timers live on the alerts in MongoDB,
so escalation also catches up after downtime), and keep the open-urgent gauge current."""

from __future__ import annotations

import logging
from datetime import datetime

from medsupport_shared.documents import INVALID_DOCUMENTS
from medsupport_shared.event_types import AlertEscalated
from medsupport_shared.events import utcnow
from notifications.alert_events import public_subject, record_created, recorder
from notifications.context import NotificationsContext
from notifications.deliveries import start_deliveries
from notifications.domain.alerts import Alert
from notifications.domain.escalation import due_step, escalated_alert
from notifications.metrics import OPEN_URGENT
from notifications.recipients import resolve_or_fall_back, shown_to
from notifications.repository import ALERTS, Document

log = logging.getLogger(__name__)


async def escalate_due(*, ctx: NotificationsContext) -> int:
    """Sweep: every open alert whose next escalation step came due (also while the service was down). One
    alert that cannot be escalated (a hand-edited document) is logged and skipped, never holding up the rest."""
    escalated = 0
    now = utcnow()
    for alert in await ctx.repo.due_escalations(now=now):
        try:
            escalated += await _escalate_one(ctx=ctx, alert=alert, now=now)
        except (KeyError, IndexError, TypeError, ValueError):  # its data, not the database: the others go on
            log.exception("stored alert cannot be escalated; skipped", extra={"alert_id": alert.id})
            INVALID_DOCUMENTS.labels(ALERTS).inc()
    return escalated


async def _escalate_one(*, ctx: NotificationsContext, alert: Alert, now: datetime) -> bool:
    due = due_step(alert, now=now, zone=ctx.settings.working_zone)
    if due is None:
        return False
    info = alert.info()
    target = due.step.target
    recipients = await resolve_or_fall_back(ctx=ctx, rule_id=alert.rule_id, target=target, info=info, at=now)
    escalated = AlertEscalated(
        alert_id=alert.id,
        subject_id=public_subject(alert),
        level=due.level,
        target=target.label(),
        recipient_ids=recipients,
        escalated_at=now,
    )

    async def step_up(entries: list[Document]) -> bool:
        return await ctx.repo.escalate_alert(alert=alert, level=due.level, next_at=due.next_at, at=now, entries=entries)

    if not await recorder(ctx).record(ALERTS, alert.id, step_up, escalated):
        return False  # acknowledged or escalated by another instance meanwhile
    for recipient in recipients:
        told = shown_to(info, await ctx.repo.person(person_id=recipient), escalated=True)
        child = escalated_alert(alert, due, recipient_id=recipient, told=told, now=now)
        if await record_created(ctx, child):
            await start_deliveries(ctx=ctx, alert=child.to_document(), channels=child.channels)
            ctx.hub.notify(recipient)
    return True


async def refresh_open_urgent_gauge(*, ctx: NotificationsContext) -> None:
    OPEN_URGENT.set(await ctx.repo.count_open_urgent())
