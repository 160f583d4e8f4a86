"""The events alerts publish, and the recorder every change of an alert or a delivery goes through (the
document's outbox, then Kafka)."""

from __future__ import annotations

from medsupport_shared.event_types import AlertCreated
from medsupport_shared.events import CloudEvent, new_event
from medsupport_shared.outbox import ChangeRecorder
from notifications.context import NotificationsContext
from notifications.domain.alerts import Alert
from notifications.event_info import REDACTED_FAMILY
from notifications.safety import CONCERN_FAMILIES, PRIVATE_FAMILIES

EVENT_PRIVATE_FAMILIES = PRIVATE_FAMILIES | CONCERN_FAMILIES | {REDACTED_FAMILY}


def recorder(ctx: NotificationsContext) -> ChangeRecorder:
    return ChangeRecorder(ctx.outbox, source=ctx.source)


def alert_created(alert: Alert) -> AlertCreated:
    """``alert.created`` for ops and audit consumers: for wellbeing and concern alerts neither the student (or
    reporter) nor the kind of event that caused them; the alert id stands in as the event's subject."""
    private = alert.family in EVENT_PRIVATE_FAMILIES or alert.redacted_subject_id is not None
    return AlertCreated(
        alert_id=alert.id,
        subject_id=None if private else alert.subject_id,
        event_id=alert.event_ids[0],
        source_event_type=None if private else alert.event_type,
        recipient_id=alert.recipient_id,
        severity=alert.severity,
        created_at=alert.created_at,
    )


def created_event(ctx: NotificationsContext, alert: Alert) -> AlertCreated | CloudEvent:
    """``alert.created``; about an anonymous report, its time (and so the Kafka record's timestamp and its
    outbox entry's) is the alert's rounded creation time, not the moment it was made."""
    if not alert.coarse_times:
        return alert_created(alert)
    return new_event(alert_created(alert), source=ctx.source, time=alert.created_at)
