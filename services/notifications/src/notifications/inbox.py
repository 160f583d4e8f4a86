"""Use cases of the in-app inbox: a recipient's alerts (audited when they show wellbeing alerts), single-use
tickets that open a live stream from a browser, following the inbox live, and reading one alert."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from medsupport_shared.auth import Principal
from medsupport_shared.documents import valid_documents
from medsupport_shared.domain_errors import NotFound
from medsupport_shared.events import utcnow
from notifications.alert_reads import record_reads
from notifications.alert_views import alert_view
from notifications.context import NotificationsContext
from notifications.domain import alert_access
from notifications.domain.alert_chain import chain_view
from notifications.domain.coarse_time import hour_floor
from notifications.repository import ALERTS, Document
from notifications.schemas import AlertOut


async def inbox_page(
    ctx: NotificationsContext,
    principal: Principal,
    *,
    status: str | None,
    urgent: bool | None,
    limit: int | None,
    cursor: str | None,
    purpose: str | None,
) -> tuple[list[Document], str | None]:
    """A page of the principal's alerts, newest first; a page showing wellbeing alerts is audited first."""
    items, next_cursor = await ctx.repo.page_inbox(
        recipient_id=principal.sub, status=status, urgent=urgent, limit=limit, cursor=cursor
    )
    valid = valid_documents(items, AlertOut, collection=ALERTS, prepare=alert_view)  # a hand-edited one: skipped
    await record_reads(ctx, principal, valid, via="inbox", purpose=purpose)
    return valid, next_cursor


@dataclass(frozen=True)
class StreamTicket:
    ticket: str
    expires_at: datetime


def ticket_digest(ticket: str) -> str:
    """Tickets are stored by digest only: a database reader cannot open someone's stream with one."""
    return hashlib.sha256(ticket.encode()).hexdigest()


async def issue_stream_ticket(
    ctx: NotificationsContext, principal: Principal, *, token_expires_at: datetime | None
) -> StreamTicket:
    """A random ticket that opens the principal's stream once, within ``STREAM_TICKET_SECONDS``; its stream
    still ends when the token that asked for it expires."""
    now = utcnow()
    ticket = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=ctx.settings.stream_ticket_seconds)
    stored = {
        "_id": ticket_digest(ticket),
        "recipient_id": principal.sub,
        "expires_at": expires_at,
        "token_expires_at": token_expires_at,
    }
    await ctx.repo.insert_stream_ticket(ticket=stored, now=now)
    return StreamTicket(ticket=ticket, expires_at=expires_at)


async def use_stream_ticket(ctx: NotificationsContext, ticket: str) -> Document | None:
    """The stored ticket (whose stream it opens, until when), once; None when unknown, used or expired."""
    return await ctx.repo.use_stream_ticket(ticket_id=ticket_digest(ticket), now=utcnow())


async def follow_inbox(
    ctx: NotificationsContext, *, recipient_id: str, since: datetime, until: datetime | None
) -> AsyncGenerator[tuple[datetime, Document]]:
    """Each alert of the recipient's inbox that changes after ``since``, with the instant to resume from, until
    ``until`` (when the token behind the stream expires). Woken by this instance's changes, and polls the
    store every ``SSE_POLL_SECONDS`` for those made by other instances."""
    # alerts about anonymous reports keep their times to the hour, so they are found from the hour on and told
    # apart by version instead (they never move ``since``)
    coarse_from, coarse_sent = hour_floor(since), set[tuple[str, int]]()
    wake = ctx.hub.subscribe(recipient_id)
    try:
        while until is None or utcnow() < until:
            changes = await ctx.repo.inbox_changes(recipient_id=recipient_id, after=since, coarse_from=coarse_from)
            for alert in changes:
                if alert.get("coarse_times"):
                    if (seen := (str(alert["_id"]), int(alert.get("version", 0)))) in coarse_sent:
                        continue
                    coarse_sent.add(seen)
                else:
                    since = alert["updated_at"]
                yield since, alert
            wait = ctx.settings.sse_poll_seconds
            if until is not None:
                wait = max(0.0, min(wait, (until - utcnow()).total_seconds()))
            try:
                await asyncio.wait_for(wake.wait(), wait)
            except TimeoutError:
                pass
            wake.clear()
    finally:
        ctx.hub.unsubscribe(recipient_id, wake)


@dataclass(frozen=True)
class AlertDetail:
    alert: Document
    deliveries: list[Document]
    chain: list[dict[str, Any]]
    """Each alert of its escalation chain, as the reader may see it."""


async def read_alert(
    ctx: NotificationsContext, principal: Principal, alert_id: str, *, purpose: str | None
) -> AlertDetail:
    """An alert the principal may read (NotFound, as for an unknown id, otherwise), audited first."""
    alert = await ctx.repo.alert_document(alert_id=alert_id)
    if alert is None or not alert_access.may_read(alert, principal):  # the families each role may read
        raise NotFound("no alert with that id")
    await record_reads(ctx, principal, [alert], via="alert", purpose=purpose)
    deliveries = await ctx.repo.deliveries_of(alert_id=alert_id)
    return AlertDetail(alert, deliveries, chain_view(await ctx.repo.chain(root_id=alert["root_id"]), principal))
