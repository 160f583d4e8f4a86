"""The audit trail of staff reads of wellbeing alerts: recorded by the inbox and alert routes, read here."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.documents import valid_documents
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit
from notifications.alert_access import audited_ids, read_record
from notifications.context import Context, NotificationsContext
from notifications.repository import ALERT_READS, Document
from notifications.schemas import AlertRead, AlertReadPage, alert_read_view

router = APIRouter(prefix="/v1", tags=["alerts"])
Purpose = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="why the alerts are read; kept in the audit trail of reads"),
]


async def record_reads(
    ctx: NotificationsContext, principal: Principal, alerts: list[Document], *, via: str, purpose: str | None
) -> None:
    """Audit a reply that shows wellbeing alerts (before it is sent: no record, no reply)."""
    if ids := audited_ids(alerts):
        read = read_record(
            record_id=str(uuid.uuid4()), principal=principal, alert_ids=ids, via=via, purpose=purpose, at=utcnow()
        )
        await ctx.repo.record_alert_read(read=read)


@router.get(
    "/alert-reads",
    response_model=AlertReadPage,
    summary="Who read which wellbeing alerts, when and why (wellbeing lead), newest first",
    description="Every reply of `GET /v1/alerts/{id}` or `GET /v1/inbox` that showed a wellbeing-flag alert (a "
    "flag, a mentor's nudge, a redacted urgent notice), whoever read it; `?alert_id=` narrows to one alert. "
    "Kept `AUDIT_RETENTION_DAYS` (six years).",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_alert_reads(
    _: Annotated[Principal, Depends(require_roles(Role.WELLBEING_LEAD))],
    ctx: Context,
    alert_id: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = await ctx.repo.page_alert_reads(alert_id=alert_id, limit=limit, cursor=cursor)
    valid = valid_documents(items, AlertRead, collection=ALERT_READS, prepare=alert_read_view)
    return {"items": [alert_read_view(d) for d in valid], "next_cursor": next_cursor}
