"""Routes for the in-app inbox (also live, as server-sent events) and for alerts and their deliveries."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from pydantic_core import to_jsonable_python

from medsupport_shared.auth import CurrentPrincipal, Principal, Role
from medsupport_shared.errors import AUTH_ERRORS, NotFound, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit
from notifications.alerts import acknowledge, alert_view
from notifications.api_directory import Context
from notifications.context import NotificationsContext
from notifications.schemas import AlertOut, AlertPage

router = APIRouter(prefix="/v1", tags=["inbox"])
HEARTBEAT_SECONDS = 15.0


@router.get(
    "/inbox",
    response_model=AlertPage,
    summary="My alerts, newest first",
    description="`?status=open&urgent=true` lists what needs a human now, whatever has arrived since.",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def inbox(
    principal: CurrentPrincipal,
    ctx: Context,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    urgent: Annotated[bool | None, Query(description="only urgent (true) or only routine (false) alerts")] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = await ctx.repo.page_inbox(
        recipient_id=principal.sub, status=status, urgent=urgent, limit=limit, cursor=cursor
    )
    return {"items": [alert_view(a) for a in items], "next_cursor": next_cursor}


@router.get(
    "/inbox/stream",
    summary="Follow my inbox live (server-sent events)",
    description="`text/event-stream`: one `alert` event per new or changed alert (`id` is resumable through "
    "`Last-Event-ID`), a comment heartbeat every 15 s. Works across instances: each stream also polls the store.",
    responses={
        200: {
            "content": {
                "text/event-stream": {
                    "example": 'id: 2026-11-25T09:30:00.123000+00:00\nevent: alert\ndata: {"id": "..."}\n\n'
                }
            }
        },
        **problem_responses(401),
    },
)
async def inbox_stream(
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    since = _parse_since(last_event_id) or utcnow()
    return StreamingResponse(
        _stream(request, ctx, principal.sub, since),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, ctx: NotificationsContext, recipient: str, since: datetime) -> AsyncIterator[str]:
    wake = ctx.hub.subscribe(recipient)
    last_sent = asyncio.get_running_loop().time()
    try:
        yield ": connected\n\n"
        while not await request.is_disconnected():
            for alert in await ctx.repo.inbox_changes(recipient_id=recipient, after=since):
                since = alert["updated_at"]
                data = json.dumps(to_jsonable_python(alert_view(alert)))
                yield f"id: {since.isoformat()}\nevent: alert\ndata: {data}\n\n"
                last_sent = asyncio.get_running_loop().time()
            if asyncio.get_running_loop().time() - last_sent > HEARTBEAT_SECONDS:
                yield ": heartbeat\n\n"
                last_sent = asyncio.get_running_loop().time()
            try:
                await asyncio.wait_for(wake.wait(), ctx.settings.sse_poll_seconds)
            except TimeoutError:
                pass
            wake.clear()
    finally:
        ctx.hub.unsubscribe(recipient, wake)


def _parse_since(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertOut,
    tags=["alerts"],
    summary="An alert with every delivery attempt and its outcome",
    description="Its recipient; the wellbeing lead; admin and ops too, except for alerts about a wellbeing "
    "flag (one student's wellbeing is for counselling roles only). Anyone else gets the 404 of an unknown id.",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_alert(alert_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    alert = await ctx.repo.alert(alert_id=alert_id)
    if alert is None or not may_read(alert, principal):
        raise NotFound("no alert with that id")
    return alert_view(alert, await ctx.repo.deliveries_of(alert_id=alert_id))


def may_read(alert: dict[str, Any], principal: Principal) -> bool:
    if alert["recipient_id"] == principal.sub or principal.has_any(Role.WELLBEING_LEAD):
        return True
    return alert.get("family") != "flag" and principal.has_any(Role.ADMIN, Role.OPS)


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertOut,
    tags=["alerts"],
    summary="Acknowledge an alert (stops its escalation)",
    description="By a recipient of the alert or of any alert escalated from it. Acknowledging twice is harmless.",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def ack(alert_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    return alert_view(await acknowledge(ctx=ctx, principal=principal, alert_id=alert_id))
