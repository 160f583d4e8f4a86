"""The events alerts publish, and how a change of an alert or a delivery is recorded with them (the document's
outbox, then Kafka)."""

from __future__ import annotations

from medsupport_shared.event_types import AlertCreated
from medsupport_shared.outbox import ChangeRecorder
from notifications.context import NotificationsContext
from notifications.domain.alerts import Alert
from notifications.event_info import REDACTED_FAMILY
from notifications.repository import ALERTS, Document
from notifications.safety import CONCERN_FAMILIES, PRIVATE_FAMILIES

EVENT_PRIVATE_FAMILIES = PRIVATE_FAMILIES | CONCERN_FAMILIES | {REDACTED_FAMILY}


def recorder(ctx: NotificationsContext) -> ChangeRecorder:
    return ChangeRecorder(ctx.outbox, source=ctx.source)


def is_private(family: str, redacted_subject_id: str | None) -> bool:
    """Whether an alert's events must not name whom it is about (health data, a concern's reporter)."""
    return family in EVENT_PRIVATE_FAMILIES or redacted_subject_id is not None


def public_subject(alert: Alert | Document) -> str | None:
    """The subject an alert's events may carry: None for wellbeing and concern alerts (the alert id stands in)."""
    if isinstance(alert, Alert):
        return None if is_private(alert.family, alert.redacted_subject_id) else alert.subject_id
    private = is_private(str(alert.get("family", "")), alert.get("redacted_subject_id"))
    subject = alert.get("subject_id")
    return None if private or not isinstance(subject, str) else subject


def alert_created(alert: Alert) -> AlertCreated:
    """``alert.created`` for ops and audit consumers: for wellbeing and concern alerts neither the student (or
    reporter) nor the kind of event that caused them; the alert id stands in as the event's subject."""
    private = is_private(alert.family, alert.redacted_subject_id)
    return AlertCreated(
        alert_id=alert.id,
        subject_id=None if private else alert.subject_id,
        event_id=alert.event_ids[0],
        source_event_type=None if private else alert.event_type,
        recipient_id=alert.recipient_id,
        severity=alert.severity,
        created_at=alert.created_at,
    )


async def record_created(ctx: NotificationsContext, alert: Alert) -> bool:
    """Store a new alert with its ``alert.created`` and publish it; False when it exists already (a redelivery).
    About an anonymous report the event's time (so the Kafka record's timestamp) and its outbox entry's are the
    alert's rounded creation time, not the moment it was made."""

    async def store(entries: list[Document]) -> bool:
        return await ctx.repo.insert_alert(alert=alert, entries=entries)

    at = alert.created_at if alert.coarse_times else None
    return await recorder(ctx).record(ALERTS, alert.id, store, alert_created(alert), at=at)
