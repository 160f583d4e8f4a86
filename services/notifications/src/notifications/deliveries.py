"""Deliveries: one document per (alert, channel), attempted at once when due and retried with
exponential backoff and jitter by a sweep that survives restarts; a dead channel never blocks the
others, and a channel that keeps failing ends in ``delivery.failed``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from pymongo.errors import PyMongoError

from medsupport_shared.event_types import AlertDelivered, DeliveryFailed
from medsupport_shared.events import utcnow
from notifications.alert_events import public_subject, recorder
from notifications.channels import ChannelError, alert_url
from notifications.context import NotificationsContext
from notifications.domain.coarse_time import send_delay
from notifications.domain.deliveries import Delivery, plan_deliveries
from notifications.domain.delivery_policy import backoff_seconds
from notifications.metrics import DELIVERY_ATTEMPTS, EVENT_TO_FIRST_DELIVERY, OUTCOME_WRITE_RETRIES
from notifications.repository import DELIVERIES, Document

log = logging.getLogger(__name__)
Outcome = tuple[Document, Document, list[AlertDelivered | DeliveryFailed]]
"""The delivery's changed fields, the attempt recorded, the events it publishes."""


async def start_deliveries(
    *, ctx: NotificationsContext, alert: Document, channels: Iterable[str], suffix: str = ""
) -> None:
    now = utcnow()
    person = await ctx.repo.person(person_id=alert["recipient_id"])
    delay = send_delay(ctx.settings.anonymous_alert_max_delay_seconds) if alert.get("coarse_times") else timedelta(0)
    planned = plan_deliveries(
        alert=alert,
        channels=[str(c) for c in channels],
        person=person,
        registry=ctx.channels,
        now=now,
        suffix=suffix,
        outbound_delay=delay,
    )
    for delivery in await ctx.repo.insert_deliveries(deliveries=planned):
        if delivery.status == "pending" and delivery.next_attempt_at is not None and delivery.next_attempt_at <= now:
            launch(ctx=ctx, delivery=delivery)  # at once, not on the next sweep tick


def launch(*, ctx: NotificationsContext, delivery: Delivery) -> bool:
    """Attempt ``delivery`` in the background, concurrently with every other one but at most
    ``delivery_concurrency`` at once in its lane (urgent or routine); False when this instance is on it."""
    if not ctx.deliveries.add(delivery.id, urgent=delivery.urgent):
        return False
    ctx.spawn(_attempt_in_slot(ctx=ctx, delivery=delivery))
    return True


async def _attempt_in_slot(*, ctx: NotificationsContext, delivery: Delivery) -> None:
    try:
        async with ctx.deliveries.slot(urgent=delivery.urgent):
            await attempt_delivery(ctx=ctx, delivery=delivery)
    except Exception:  # attempt_delivery records its failures; this is the last line, never a silent death
        log.exception("delivery attempt failed unexpectedly", extra={"delivery_id": delivery.id})
    finally:
        ctx.deliveries.discard(delivery.id)


async def deliver_due(*, ctx: NotificationsContext) -> int:
    """Launch the due deliveries (retries, quiet-hours deferrals, work a crash or an outage left pending or
    ``sending``), urgent ones first and in a lane of their own, without waiting for them, so one slow
    endpoint never holds up the others or the next sweep."""
    launched = 0
    for urgent in (True, False):
        room = ctx.deliveries.room(urgent=urgent)
        if room <= 0:
            continue
        exclude = ctx.deliveries.ids()
        due = await ctx.repo.due_deliveries(now=utcnow(), limit=room, exclude=exclude, urgent=urgent)
        launched += sum(launch(ctx=ctx, delivery=delivery) for delivery in due)
    return launched


async def attempt_delivery(*, ctx: NotificationsContext, delivery: Delivery) -> None:
    """One attempt, its outcome recorded on the delivery whatever happens. The database failing before the
    send leaves the delivery due for a sweep; after the send, the outcome is kept and written once the
    database answers again (the lease keeps other instances off meanwhile), so nothing is sent twice."""
    try:
        claimed = await _claim(ctx=ctx, delivery=delivery)
        if claimed is None:
            return  # another worker has it
        delivery = claimed
        alert = await ctx.repo.alert_document(alert_id=delivery.alert_id)
        person = await ctx.repo.person(person_id=delivery.recipient_id) if alert else None
    except PyMongoError as exc:
        log.warning("delivery left for the sweep: database unreachable", extra=_failure(delivery.id, exc))
        return
    channel = ctx.channels[delivery.channel]
    address = channel.address(person) if alert else None
    now = utcnow()
    try:
        if alert is None or address is None:
            raise ChannelError("the alert or the recipient's address is gone", permanent=True)
        url = alert_url(alert, person, ctx.settings)
        await channel.send(alert=alert, delivery_id=delivery.id, address=address, url=url)
    except Exception as exc:
        if not isinstance(exc, ChannelError):  # a bug or bad data: recorded and retried, never a dead task
            log.exception("channel raised unexpectedly", extra={"delivery_id": delivery.id})
            exc = ChannelError(f"{delivery.channel}: {type(exc).__name__}")
        changes, outcome, events = _failed(ctx=ctx, delivery=delivery, alert=alert, error=exc, now=now)
    else:
        assert alert is not None  # sending raised otherwise
        changes, outcome, events = _delivered(ctx=ctx, delivery=delivery, alert=alert, now=now)

    async def write(entries: list[Document]) -> bool:
        await _record(ctx=ctx, delivery_id=delivery.id, changes=changes, outcome=outcome, entries=entries)
        return True

    # about an anonymous report, its events and their entries carry the attempt's rounded time
    at = delivery.stamp(now) if delivery.coarse_times else None
    await recorder(ctx).record(DELIVERIES, delivery.id, write, *events, at=at)
    if outcome["outcome"] == "delivered" and alert is not None and alert.get("first_delivered_at") is None:
        await _observe_first_delivery(ctx=ctx, alert=alert, now=delivery.stamp(now))


async def _claim(*, ctx: NotificationsContext, delivery: Delivery) -> Delivery | None:
    now = utcnow()
    if delivery.status == "sending":  # its worker died: that attempt failed
        expired = await ctx.repo.expire_lease(delivery=delivery, now=now)
        if expired is None:
            return None
        delivery = expired
    lease_until = now + timedelta(seconds=ctx.settings.delivery_lease_seconds)
    if not await ctx.repo.claim_delivery(delivery=delivery, lease_until=lease_until, now=now):
        return None
    return delivery


def _failed(
    *, ctx: NotificationsContext, delivery: Delivery, alert: Document | None, error: ChannelError, now: datetime
) -> Outcome:
    attempt_no, stamp = delivery.attempt_count + 1, delivery.stamp(now)
    final = error.permanent or attempt_no >= ctx.settings.delivery_max_attempts
    DELIVERY_ATTEMPTS.labels(delivery.channel, "failed" if final else "retry").inc()
    changes: Document = {"status": "failed" if final else "pending", "lease_until": None, "reason": str(error)}
    events: list[AlertDelivered | DeliveryFailed] = []
    if final:
        failed = DeliveryFailed(
            alert_id=delivery.alert_id,
            subject_id=public_subject(alert) if alert is not None else None,
            recipient_id=delivery.recipient_id,
            channel=delivery.channel,
            attempts=attempt_no,
            error=str(error)[:200],
            failed_at=stamp,
        )
        events.append(failed)
        log.warning("delivery failed for good", extra={"delivery_id": delivery.id, "error": str(error)})
    else:
        s = ctx.settings
        delay = backoff_seconds(attempt_no, base=s.delivery_backoff_base_seconds, cap=s.delivery_backoff_cap_seconds)
        changes["next_attempt_at"] = now + timedelta(seconds=delay)
    return changes, {"at": stamp, "outcome": "failed", "error": str(error)[:200]}, events


def _delivered(*, ctx: NotificationsContext, delivery: Delivery, alert: Document, now: datetime) -> Outcome:
    DELIVERY_ATTEMPTS.labels(delivery.channel, "delivered").inc()
    stamp = delivery.stamp(now)
    log.info("alert delivered", extra={"alert_id": alert["_id"], "channel": delivery.channel})
    delivered = AlertDelivered(
        alert_id=alert["_id"],
        subject_id=public_subject(alert),
        recipient_id=delivery.recipient_id,
        channel=delivery.channel,
        attempt=delivery.attempt_count + 1,
        delivered_at=stamp,
    )
    changes: Document = {"status": "delivered", "delivered_at": stamp, "lease_until": None, "reason": None}
    if delivery.coarse_times:
        changes["next_attempt_at"] = None  # when it was due tells its random delay, no longer needed
    return changes, {"at": stamp, "outcome": "delivered"}, [delivered]


async def _record(
    *, ctx: NotificationsContext, delivery_id: str, changes: Document, outcome: Document, entries: list[Document]
) -> None:
    """Write the outcome, waiting out a database outage: a send that happened must not be forgotten (and
    then repeated by a sweep); this instance's sweep leaves the delivery alone while we hold it."""
    delay = 0.2
    while True:
        try:
            await ctx.repo.finish_delivery(delivery_id=delivery_id, changes=changes, attempt=outcome, entries=entries)
            return
        except PyMongoError as exc:
            OUTCOME_WRITE_RETRIES.inc()
            log.warning("delivery outcome not recorded yet: database unreachable", extra=_failure(delivery_id, exc))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)


async def _observe_first_delivery(*, ctx: NotificationsContext, alert: Document, now: datetime) -> None:
    try:
        first = await ctx.repo.mark_first_delivery(alert_id=alert["_id"], at=now)
    except PyMongoError:
        return  # a metric only
    if first and not alert.get("coarse_times"):  # from a rounded event time the figure means nothing
        EVENT_TO_FIRST_DELIVERY.labels(alert["severity"]).observe(
            (now - (alert.get("event_time") or alert["created_at"])).total_seconds()
        )


def _failure(delivery_id: str, exc: Exception) -> Document:
    return {"delivery_id": delivery_id, "error": type(exc).__name__}
