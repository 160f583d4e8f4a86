"""Routes for the in-app inbox (also live, as server-sent events) and for alerts and their deliveries (use cases:
inbox.py, alerts.py)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import jwt
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import EventSourceResponse, ServerSentEvent

from medsupport_shared.auth import CurrentPrincipal, get_principal
from medsupport_shared.errors import AUTH_ERRORS, TooManyRequests, Unauthorized, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit, as_utc_instant
from notifications.acknowledgement import acknowledge
from notifications.alert_views import alert_view
from notifications.api_alert_reads import Purpose
from notifications.context import Context
from notifications.inbox import follow_inbox, inbox_page, issue_stream_ticket, read_alert, use_stream_ticket
from notifications.schemas import AlertOut, AlertPage, StreamTicketOut

router = APIRouter(prefix="/v1", tags=["inbox"])
_bearer = HTTPBearer(auto_error=False)


@router.get(
    "/inbox",
    response_model=AlertPage,
    summary="My alerts, newest first",
    description="`?status=open&urgent=true` lists what needs a human now, whatever has arrived since. A page "
    "that shows wellbeing alerts is audited (`GET /v1/alert-reads`), with the `purpose` given.",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def inbox(
    principal: CurrentPrincipal,
    ctx: Context,
    status: Literal["open", "acknowledged", "resolved"] | None = None,
    urgent: Annotated[bool | None, Query(description="only urgent (true) or only routine (false) alerts")] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    purpose: Purpose = None,
) -> Any:
    valid, next_cursor = await inbox_page(
        ctx, principal, status=status, urgent=urgent, limit=limit, cursor=cursor, purpose=purpose
    )
    return {"items": [alert_view(a) for a in valid], "next_cursor": next_cursor}


@router.post(
    "/inbox/stream-tickets",
    response_model=StreamTicketOut,
    summary="A single-use ticket to open my live inbox from a browser",
    description="A browser's `EventSource` cannot send an `Authorization` header, and a token in a URL ends up "
    "in logs and history; so the page asks for a ticket with its bearer token and opens "
    "`GET /v1/inbox/stream?ticket=...` with it. A ticket is random, works once, within "
    "`STREAM_TICKET_SECONDS`, and its stream still ends when the token that asked for it expires. Every call gives a "
    "new ticket (so no `Idempotency-Key`).",
    responses=problem_responses(*AUTH_ERRORS),
)
async def stream_ticket(
    principal: CurrentPrincipal,
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Any:
    issued = await issue_stream_ticket(ctx, principal, token_expires_at=token_expiry(credentials))
    stream = f"/v1/inbox/stream?ticket={issued.ticket}"
    return {"ticket": issued.ticket, "expires_at": issued.expires_at, "stream": stream}


@dataclass(frozen=True)
class StreamViewer:
    recipient_id: str
    until: datetime | None
    """When the token behind the stream expires: the stream ends then."""


async def stream_viewer(
    request: Request,
    ctx: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(max_length=200, description="from `POST /v1/inbox/stream-tickets`")] = None,
) -> StreamViewer:
    if ticket is not None:
        found = await use_stream_ticket(ctx, ticket)
        if found is None:
            raise Unauthorized("the stream ticket is unknown, used or expired; ask for a new one")
        return StreamViewer(found["recipient_id"], found.get("token_expires_at"))
    principal = await get_principal(request, credentials)
    return StreamViewer(principal.sub, token_expiry(credentials))


async def stream_slot(
    viewer: Annotated[StreamViewer, Depends(stream_viewer)], ctx: Context
) -> AsyncIterator[StreamViewer]:
    """Held for as long as the stream is open (a dependency's exit runs after the response has ended)."""
    limit = ctx.settings.sse_max_streams_per_user
    if not ctx.streams.take(viewer.recipient_id, limit=limit):
        raise TooManyRequests(f"at most {limit} live inbox streams per user; close one first")
    try:
        yield viewer
    finally:
        ctx.streams.give_back(viewer.recipient_id)


@router.get(
    "/inbox/stream",
    response_class=EventSourceResponse,
    summary="Follow my inbox live (server-sent events)",
    description="One `alert` event per new or changed alert (`id` is resumable through the `Last-Event-ID` "
    "header or `?last_event_id=`), a keep-alive comment every 15 s, and an `expired` event when the token "
    "behind the stream expires (the stream then ends: open a new one with a fresh token or ticket). "
    "Authenticate with the bearer token, or from a browser with `?ticket=` from `POST /v1/inbox/stream-tickets`. "
    "At most `SSE_MAX_STREAMS_PER_USER` (3) open streams per user (429 beyond). Works across instances: each "
    "stream also polls the store.",
    responses=problem_responses(401, 422, 429),
)
async def inbox_stream(
    ctx: Context,
    viewer: Annotated[StreamViewer, Depends(stream_slot)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id_query: Annotated[
        str | None, Query(alias="last_event_id", max_length=64, description="instead of the header, for browsers")
    ] = None,
) -> AsyncIterable[ServerSentEvent]:
    since = _parse_since(last_event_id or last_event_id_query) or utcnow()
    yield ServerSentEvent(comment="connected")
    updates = follow_inbox(ctx, recipient_id=viewer.recipient_id, since=since, until=viewer.until)
    async with aclosing(updates):
        async for resume_from, alert in updates:
            yield ServerSentEvent(event="alert", id=resume_from.isoformat(), data=alert_view(alert))
    yield ServerSentEvent(event="expired", data={"detail": "the token behind this stream has expired"})


def _parse_since(value: str | None) -> datetime | None:
    """The instant a ``Last-Event-ID`` names, or None (resume from now) when it names none we can query."""
    try:
        return as_utc_instant(datetime.fromisoformat(value)) if value else None
    except ValueError:
        return None


def token_expiry(credentials: HTTPAuthorizationCredentials | None) -> datetime | None:
    """The ``exp`` of a bearer token already verified by ``get_principal`` (so its signature is not
    checked a second time here)."""
    if credentials is None:
        return None
    claims = jwt.decode(credentials.credentials, options={"verify_signature": False})
    exp = claims.get("exp")
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


@router.get(
    "/alerts/{alert_id}",
    response_model=AlertOut,
    tags=["alerts"],
    summary="An alert with every delivery attempt and who was notified along its escalation chain",
    description="Its recipient; the wellbeing lead for wellbeing alerts (flags, mentor nudges, notices); admin, "
    "ops and the lead for operational families only (feedback, mentorship, meetings), never flag or concern "
    "alerts. Anyone else gets the 404 of an unknown id. Reading a wellbeing alert is audited "
    "(`GET /v1/alert-reads`), with the `purpose` given. `chain` lists each alert of the same escalation chain "
    "(recipient, level, channels, status, acknowledgement); a wellbeing step is redacted for viewers without a "
    "counselling role.",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_alert(alert_id: str, principal: CurrentPrincipal, ctx: Context, purpose: Purpose = None) -> Any:
    detail = await read_alert(ctx, principal, alert_id, purpose=purpose)
    return alert_view(detail.alert, detail.deliveries) | {"chain": detail.chain}


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
