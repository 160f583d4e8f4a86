"""Use case: a person acknowledges an alert, which stops the escalation of its whole chain."""

from __future__ import annotations

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import NotFound
from medsupport_shared.event_types import AlertAcknowledged
from medsupport_shared.events import utcnow
from notifications.alert_events import public_subject, recorder
from notifications.context import NotificationsContext
from notifications.domain.alerts import Alert
from notifications.metrics import TIME_TO_ACK
from notifications.repository import ALERTS, Document


async def acknowledge(*, ctx: NotificationsContext, principal: Principal, alert_id: str) -> Alert:
    """By a recipient of the alert or of any alert of its chain (acknowledging twice is harmless); the alert
    as it is afterwards. ``alert.acknowledged`` names the alert acknowledged, not the rest of its chain."""
    alert = await ctx.repo.alert(alert_id=alert_id)
    if alert is None:
        raise NotFound("no alert with that id")
    chain = await ctx.repo.chain_alerts(root_id=alert.root_id)
    if principal.sub not in {a.recipient_id for a in chain}:
        raise NotFound("no alert with that id")  # as for an unknown id: whose alerts exist is not told
    if not alert.is_open:
        return alert
    now = utcnow()
    changes = recorder(ctx)
    for member in chain:  # acknowledging any alert of the chain stops the escalation of all
        if not member.is_open:
            continue
        own = member.id == alert_id
        acknowledged = AlertAcknowledged(
            alert_id=alert_id, subject_id=public_subject(alert), acknowledged_by=principal.sub, acknowledged_at=now
        )

        async def store(entries: list[Document], member: Alert = member) -> bool:
            return await ctx.repo.acknowledge_alert(alert=member, by=principal.sub, at=now, entries=entries)

        if await changes.record(ALERTS, alert_id, store, *([acknowledged] if own else [])):
            if own:
                TIME_TO_ACK.labels(member.severity).observe((now - member.created_at).total_seconds())
            ctx.hub.notify(member.recipient_id)
    return await ctx.repo.alert(alert_id=alert_id) or alert
