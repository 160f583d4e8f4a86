"""The audit trail of staff reads of wellbeing alerts (use cases: alert_reads.py): recorded by the inbox and alert
routes, read here."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.inputs import PageCursor, PageLimit
from notifications import alert_reads
from notifications.context import Context
from notifications.schemas import AlertReadPage, alert_read_view

router = APIRouter(prefix="/v1", tags=["alerts"])
Purpose = Annotated[
    str | None,
    Query(min_length=1, max_length=200, description="why the alerts are read; kept in the audit trail of reads"),
]


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
    valid, next_cursor = await alert_reads.reads_page(ctx, alert_id=alert_id, limit=limit, cursor=cursor)
    return {"items": [alert_read_view(d) for d in valid], "next_cursor": next_cursor}
