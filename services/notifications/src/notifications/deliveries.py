"""Deliveries: one document per (alert, channel), attempted at once when due and retried with
exponential backoff and jitter by a sweep that survives restarts; a dead channel never blocks the
others, and a channel that keeps failing ends in ``delivery.failed``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from medsupport_shared.event_types import AlertDelivered, DeliveryFailed
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.outbox import outbox_entry
from notifications.channels import ChannelError, alert_url
from notifications.coarse_time import hour_floor, send_delay
from notifications.context import NotificationsContext
from notifications.delivery_policy import QuietHours, backoff_seconds, deferred_until
from notifications.metrics import DELIVERY_ATTEMPTS, EVENT_TO_FIRST_DELIVERY, OUTCOME_WRITE_RETRIES
from notifications.repository import DELIVERIES, Document

log = logging.getLogger(__name__)


def plan_deliveries(
    *,
    alert: Document,
    channels: Iterable[str],
    person: Document | None,
    registry: dict[str, Any],
    now: datetime,
    suffix: str = "",
    outbound_delay: timedelta = timedelta(0),
) -> list[Document]:
    """The delivery documents for an alert (pure). Urgent alerts ignore quiet hours and preferences. An alert
    about an anonymous report (``coarse_times``) keeps its creation time to the hour and sends e-mail and
    webhooks no earlier than ``outbound_delay`` from now (the in-app inbox at once)."""
    urgent = bool(alert.get("urgent"))
    coarse = bool(alert.get("coarse_times"))
    quiet = QuietHours.stored((person or {}).get("quiet_hours"))
    preferences = (person or {}).get("channels") or {}
    planned = []
    for channel in channels:
        address = registry[channel].address(person)
        doc: Document = {
            "_id": f"{alert['_id']}:{channel}{':' + suffix if suffix else ''}",
            "alert_id": alert["_id"],
            "recipient_id": alert["recipient_id"],
            "channel": channel,
            "created_at": hour_floor(now) if coarse else now,
            "attempt_count": 0,
            "attempts": [],
            "severity": alert["severity"],
        } | ({"coarse_times": True} if coarse else {})
        if address is None:
            doc.update(status="skipped", reason=f"no {channel} address for the recipient")
        elif channel != "inapp" and not urgent and preferences.get(channel) is False:
            doc.update(status="skipped", reason="turned off in the recipient's preferences")
        else:
            due = now if channel == "inapp" else deferred_until(urgent=urgent, quiet=quiet, at=now)
            reason = "deferred for quiet hours" if due > now else None
            if coarse and channel != "inapp" and outbound_delay:
                due, reason = max(due, now + outbound_delay), "delayed: an anonymous report's time stays hidden"
            doc.update(status="pending", next_attempt_at=due, reason=reason)
        planned.append(doc)
    return planned


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
        if delivery["status"] == "pending" and delivery["next_attempt_at"] <= now:
            launch(ctx=ctx, delivery=delivery)  # at once, not on the next sweep tick


def launch(*, ctx: NotificationsContext, delivery: Document) -> bool:
    """Attempt ``delivery`` in the background, concurrently with every other one but at most
    ``delivery_concurrency`` at once in its lane (urgent or routine); False when this instance is on it."""
    if not ctx.deliveries.add(delivery["_id"], urgent=_urgent(delivery)):
        return False
    ctx.spawn(_attempt_in_slot(ctx=ctx, delivery=delivery))
    return True


def _urgent(delivery: Document) -> bool:
    return bool(delivery.get("severity") == "urgent")


async def _attempt_in_slot(*, ctx: NotificationsContext, delivery: Document) -> None:
    try:
        async with ctx.deliveries.slot(urgent=_urgent(delivery)):
            await attempt_delivery(ctx=ctx, delivery=delivery)
    except Exception:  # attempt_delivery records its failures; this is the last line, never a silent death
        log.exception("delivery attempt failed unexpectedly", extra={"delivery_id": delivery["_id"]})
    finally:
        ctx.deliveries.discard(delivery["_id"])


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


async def attempt_delivery(*, ctx: NotificationsContext, delivery: Document) -> None:
    """One attempt, its outcome recorded on the delivery whatever happens. The database failing before the
    send leaves the delivery due for a sweep; after the send, the outcome is kept and written once the
    database answers again (the lease keeps other instances off meanwhile), so nothing is sent twice."""
    try:
        claimed = await _claim(ctx=ctx, delivery=delivery)
        if claimed is None:
            return  # another worker has it
        delivery = claimed
        alert = await ctx.repo.alert_document(alert_id=delivery["alert_id"])
        person = await ctx.repo.person(person_id=delivery["recipient_id"]) if alert else None
    except PyMongoError as exc:
        log.warning("delivery left for the sweep: database unreachable", extra=_failure(delivery, exc))
        return
    channel = ctx.channels[delivery["channel"]]
    address = channel.address(person) if alert else None
    now = utcnow()
    try:
        if alert is None or address is None:
            raise ChannelError("the alert or the recipient's address is gone", permanent=True)
        url = alert_url(alert, person, ctx.settings)
        await channel.send(alert=alert, delivery_id=delivery["_id"], address=address, url=url)
    except Exception as exc:
        if not isinstance(exc, ChannelError):  # a bug or bad data: recorded and retried, never a dead task
            log.exception("channel raised unexpectedly", extra={"delivery_id": delivery["_id"]})
            exc = ChannelError(f"{delivery['channel']}: {type(exc).__name__}")
        changes, outcome, entries = _failed(ctx=ctx, delivery=delivery, alert=alert, error=exc, now=now)
    else:
        assert alert is not None  # sending raised otherwise
        changes, outcome, entries = _delivered(ctx=ctx, delivery=delivery, alert=alert, now=now)
    await _record(ctx=ctx, delivery_id=delivery["_id"], changes=changes, outcome=outcome, entries=entries)
    if entries:
        ctx.outbox.dispatch(DELIVERIES, delivery["_id"], entries)
    if outcome["outcome"] == "delivered" and alert is not None and alert.get("first_delivered_at") is None:
        await _observe_first_delivery(ctx=ctx, alert=alert, now=_stamp(delivery, now))


async def _claim(*, ctx: NotificationsContext, delivery: Document) -> Document | None:
    now = utcnow()
    if delivery["status"] == "sending":  # its worker died: that attempt failed
        expired = await ctx.repo.expire_lease(delivery=delivery, now=now)
        if expired is None:
            return None
        delivery = expired
    lease_until = now + timedelta(seconds=ctx.settings.delivery_lease_seconds)
    if not await ctx.repo.claim_delivery(delivery=delivery, lease_until=lease_until, now=now):
        return None
    return delivery


def _failed(
    *, ctx: NotificationsContext, delivery: Document, alert: Document | None, error: ChannelError, now: datetime
) -> tuple[Document, Document, list[Document]]:
    attempt_no, stamp = delivery["attempt_count"] + 1, _stamp(delivery, now)
    final = error.permanent or attempt_no >= ctx.settings.delivery_max_attempts
    DELIVERY_ATTEMPTS.labels(delivery["channel"], "failed" if final else "retry").inc()
    changes: Document = {"status": "failed" if final else "pending", "lease_until": None, "reason": str(error)}
    entries: list[Document] = []
    if final:
        failed = DeliveryFailed(
            alert_id=delivery["alert_id"],
            subject_id=(alert or {}).get("subject_id", delivery["recipient_id"]),
            recipient_id=delivery["recipient_id"],
            channel=delivery["channel"],
            attempts=attempt_no,
            error=str(error)[:200],
            failed_at=stamp,
        )
        entries.append(_entry(delivery, failed, stamp, ctx.source))
        log.warning("delivery failed for good", extra={"delivery_id": delivery["_id"], "error": str(error)})
    else:
        s = ctx.settings
        delay = backoff_seconds(attempt_no, base=s.delivery_backoff_base_seconds, cap=s.delivery_backoff_cap_seconds)
        changes["next_attempt_at"] = now + timedelta(seconds=delay)
    return changes, {"at": stamp, "outcome": "failed", "error": str(error)[:200]}, entries


def _delivered(
    *, ctx: NotificationsContext, delivery: Document, alert: Document, now: datetime
) -> tuple[Document, Document, list[Document]]:
    DELIVERY_ATTEMPTS.labels(delivery["channel"], "delivered").inc()
    stamp = _stamp(delivery, now)
    log.info("alert delivered", extra={"alert_id": alert["_id"], "channel": delivery["channel"]})
    delivered = AlertDelivered(
        alert_id=alert["_id"],
        subject_id=alert["subject_id"],
        recipient_id=delivery["recipient_id"],
        channel=delivery["channel"],
        attempt=delivery["attempt_count"] + 1,
        delivered_at=stamp,
    )
    changes = {"status": "delivered", "delivered_at": stamp, "lease_until": None, "reason": None}
    if delivery.get("coarse_times"):
        changes["next_attempt_at"] = None  # when it was due tells its random delay, no longer needed
    return changes, {"at": stamp, "outcome": "delivered"}, [_entry(delivery, delivered, stamp, ctx.source)]


def _stamp(delivery: Document, now: datetime) -> datetime:
    """The time stored for an attempt: to the hour for an alert about an anonymous report."""
    return hour_floor(now) if delivery.get("coarse_times") else now


def _entry(delivery: Document, data: AlertDelivered | DeliveryFailed, stamp: datetime, source: str) -> Document:
    if not delivery.get("coarse_times"):
        return outbox_entry(new_event(data, source=source))
    return outbox_entry(new_event(data, source=source, time=stamp)) | {"created_at": stamp}


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


def _failure(delivery: Document | str, exc: Exception) -> Document:
    delivery_id = delivery if isinstance(delivery, str) else delivery["_id"]
    return {"delivery_id": delivery_id, "error": type(exc).__name__}
