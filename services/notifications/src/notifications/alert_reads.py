"""Use cases of the audit trail of staff reads of wellbeing alerts: recorded before a reply shows them, read by
the wellbeing lead."""

from __future__ import annotations

import uuid

from medsupport_shared.auth import Principal
from medsupport_shared.documents import valid_documents
from medsupport_shared.events import utcnow
from notifications.context import NotificationsContext
from notifications.domain.alert_access import audited_ids, read_record
from notifications.repository import ALERT_READS, Document
from notifications.schemas import AlertRead, alert_read_view


async def record_reads(
    ctx: NotificationsContext, principal: Principal, alerts: list[Document], *, via: str, purpose: str | None
) -> None:
    """Audit a reply that shows wellbeing alerts (before it is sent: no record, no reply)."""
    if ids := audited_ids(alerts):
        read = read_record(
            record_id=str(uuid.uuid4()), principal=principal, alert_ids=ids, via=via, purpose=purpose, at=utcnow()
        )
        await ctx.repo.record_alert_read(read=read)


async def reads_page(
    ctx: NotificationsContext, *, alert_id: str | None, limit: int | None, cursor: str | None
) -> tuple[list[Document], str | None]:
    """Recorded reads, newest first, of one alert or all (an unreadable record left out, logged and counted)."""
    items, next_cursor = await ctx.repo.page_alert_reads(alert_id=alert_id, limit=limit, cursor=cursor)
    return valid_documents(items, AlertRead, collection=ALERT_READS, prepare=alert_read_view), next_cursor
