"""Deliveries: one document per (alert, channel), attempted at once when due and retried with
exponential backoff and jitter by a sweep that survives restarts; a dead channel never blocks the
others, and a channel that keeps failing ends in ``delivery.failed``."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Histogram

from medsupport_shared.event_types import AlertDelivered, DeliveryFailed
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.outbox import outbox_entry
from notifications.channels import ChannelError
from notifications.context import NotificationsContext
from notifications.delivery_policy import QuietHours, backoff_seconds, deferred_until
from notifications.repository import DELIVERIES, Document

log = logging.getLogger(__name__)
DELIVERY_ATTEMPTS = Counter(
    "medsupport_notifications_delivery_attempts_total", "Delivery attempts by outcome", ["channel", "outcome"]
)
EVENT_TO_FIRST_DELIVERY = Histogram(
    "medsupport_notifications_event_to_first_delivery_seconds",
    "From the source event to the first delivered channel",
    ["severity"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)
LEASE = timedelta(seconds=60)


def plan_deliveries(
    *,
    alert: Document,
    channels: Iterable[str],
    person: Document | None,
    registry: dict[str, Any],
    now: datetime,
    suffix: str = "",
) -> list[Document]:
    """The delivery documents for an alert (pure). Urgent alerts ignore quiet hours and preferences."""
    urgent = bool(alert.get("urgent"))
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
            "created_at": now,
            "attempt_count": 0,
            "attempts": [],
            "severity": alert["severity"],
        }
        if address is None:
            doc.update(status="skipped", reason=f"no {channel} address for the recipient")
        elif channel != "inapp" and not urgent and preferences.get(channel) is False:
            doc.update(status="skipped", reason="turned off in the recipient's preferences")
        else:
            due = now if channel == "inapp" else deferred_until(urgent=urgent, quiet=quiet, at=now)
            doc.update(status="pending", next_attempt_at=due, reason="deferred for quiet hours" if due > now else None)
        planned.append(doc)
    return planned


async def start_deliveries(
    *, ctx: NotificationsContext, alert: Document, channels: Iterable[str], suffix: str = ""
) -> None:
    now = utcnow()
    person = await ctx.repo.person(person_id=alert["recipient_id"])
    planned = plan_deliveries(
        alert=alert, channels=[str(c) for c in channels], person=person, registry=ctx.channels, now=now, suffix=suffix
    )
    for delivery in await ctx.repo.insert_deliveries(deliveries=planned):
        if delivery["status"] == "pending" and delivery["next_attempt_at"] <= now:
            ctx.spawn(attempt_delivery(ctx=ctx, delivery=delivery))  # at once, not on the next sweep tick


async def deliver_due(*, ctx: NotificationsContext) -> int:
    now = utcnow()
    due = await ctx.repo.due_deliveries(now=now)
    for delivery in due:
        if delivery["status"] == "sending":  # its worker died: that attempt failed
            expired = await ctx.repo.expire_lease(delivery=delivery, now=now)
            if expired is None:
                continue
            delivery = expired
        await attempt_delivery(ctx=ctx, delivery=delivery)
    return len(due)


async def attempt_delivery(*, ctx: NotificationsContext, delivery: Document) -> None:
    now = utcnow()
    if not await ctx.repo.claim_delivery(delivery=delivery, lease_until=now + LEASE):
        return  # another worker has it
    alert = await ctx.repo.alert(alert_id=delivery["alert_id"])
    channel = ctx.channels[delivery["channel"]]
    address = channel.address(await ctx.repo.person(person_id=delivery["recipient_id"])) if alert else None
    attempt_no = delivery["attempt_count"] + 1
    entries: list[Document] = []
    try:
        if alert is None or address is None:
            raise ChannelError("the alert or the recipient's address is gone")
        await channel.send(alert=alert, delivery_id=delivery["_id"], address=address)
    except ChannelError as exc:
        final = attempt_no >= ctx.settings.delivery_max_attempts or alert is None
        DELIVERY_ATTEMPTS.labels(delivery["channel"], "failed" if final else "retry").inc()
        changes: Document = {"status": "failed" if final else "pending", "lease_until": None, "reason": str(exc)}
        if final:
            entries.append(
                outbox_entry(
                    new_event(
                        DeliveryFailed(
                            alert_id=delivery["alert_id"],
                            subject_id=(alert or {}).get("subject_id", delivery["recipient_id"]),
                            recipient_id=delivery["recipient_id"],
                            channel=delivery["channel"],
                            attempts=attempt_no,
                            error=str(exc)[:200],
                            failed_at=now,
                        ),
                        source=ctx.source,
                    )
                )
            )
            log.warning("delivery failed for good", extra={"delivery_id": delivery["_id"], "error": str(exc)})
        else:
            delay = backoff_seconds(
                attempt_no,
                base=ctx.settings.delivery_backoff_base_seconds,
                cap=ctx.settings.delivery_backoff_cap_seconds,
            )
            changes["next_attempt_at"] = now + timedelta(seconds=delay)
        outcome = {"at": now, "outcome": "failed", "error": str(exc)[:200]}
    else:
        assert alert is not None  # sending raised otherwise
        DELIVERY_ATTEMPTS.labels(delivery["channel"], "delivered").inc()
        log.info("alert delivered", extra={"alert_id": alert["_id"], "channel": delivery["channel"]})
        changes = {"status": "delivered", "delivered_at": now, "lease_until": None, "reason": None}
        outcome = {"at": now, "outcome": "delivered"}
        entries.append(
            outbox_entry(
                new_event(
                    AlertDelivered(
                        alert_id=alert["_id"],
                        subject_id=alert["subject_id"],
                        recipient_id=delivery["recipient_id"],
                        channel=delivery["channel"],
                        attempt=attempt_no,
                        delivered_at=now,
                    ),
                    source=ctx.source,
                )
            )
        )
        if alert.get("first_delivered_at") is None and await ctx.repo.mark_first_delivery(
            alert_id=alert["_id"], at=now
        ):
            EVENT_TO_FIRST_DELIVERY.labels(alert["severity"]).observe(
                (now - (alert.get("event_time") or alert["created_at"])).total_seconds()
            )
    await ctx.repo.finish_delivery(delivery_id=delivery["_id"], changes=changes, attempt=outcome, entries=entries)
    if entries:
        ctx.outbox.dispatch(DELIVERIES, delivery["_id"], entries)
