"""A delivery (one alert on one channel) as stored, and the plan of an alert's deliveries (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from notifications.domain.coarse_time import hour_floor
from notifications.domain.delivery_policy import QuietHours, deferred_until

Document = dict[str, Any]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed", "skipped"]


class Attempt(BaseModel):
    model_config = ConfigDict(frozen=True)
    at: datetime
    outcome: str
    error: str | None = None


class Delivery(BaseModel):
    """One alert on one channel: attempted when due, retried with backoff, leased to one worker at a time."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)
    id: str = Field(alias="_id")
    alert_id: str
    recipient_id: str
    channel: str
    status: DeliveryStatus
    created_at: datetime
    attempt_count: int = 0
    attempts: tuple[Attempt, ...] = ()
    severity: str | None = None
    reason: str | None = None
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    delivered_at: datetime | None = None
    coarse_times: bool = False
    """About an anonymous report: every time kept is rounded to the hour."""

    @property
    def urgent(self) -> bool:
        return self.severity == "urgent"

    def stamp(self, now: datetime) -> datetime:
        """The time stored for an attempt: to the hour for an alert about an anonymous report."""
        return hour_floor(now) if self.coarse_times else now


class Addressing(Protocol):
    def address(self, person: Document | None) -> str | None: ...


def plan_deliveries(
    *,
    alert: Mapping[str, Any],
    channels: Iterable[str],
    person: Document | None,
    registry: Mapping[str, Addressing],
    now: datetime,
    suffix: str = "",
    outbound_delay: timedelta = timedelta(0),
) -> list[Document]:
    """The delivery documents for an alert. Urgent alerts ignore quiet hours and preferences. An alert about an
    anonymous report (``coarse_times``) keeps its creation time to the hour and sends e-mail and webhooks no
    earlier than ``outbound_delay`` from now (the in-app inbox at once)."""
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
