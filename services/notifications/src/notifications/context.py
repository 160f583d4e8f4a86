"""What the notifications use cases need, wired once in app.py, and the routes' dependency on it (the one home
of dependencies: every api_*.py takes ``ctx: Context``)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import Outbox
from medsupport_shared.supervision import TaskSupervisor
from notifications.channels import DeliveryChannel
from notifications.repository import NotificationsRepository
from notifications.settings import NotificationsSettings


class InboxHub:
    """Wakes this instance's SSE streams when a recipient's inbox changes (streams also poll the
    database, so a change made by another instance reaches them too)."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)

    def subscribe(self, recipient_id: str) -> asyncio.Event:
        event = asyncio.Event()
        self._waiters[recipient_id].add(event)
        return event

    def unsubscribe(self, recipient_id: str, event: asyncio.Event) -> None:
        self._waiters[recipient_id].discard(event)

    def notify(self, recipient_id: str) -> None:
        for event in self._waiters.get(recipient_id, ()):
            event.set()


class DeliveryLanes:
    """The sends this instance has in flight, in two lanes of ``per_lane`` slots each, so urgent alerts
    never wait behind routine ones that slow endpoints hold (and the sweep skips what is in flight)."""

    def __init__(self, per_lane: int) -> None:
        self.per_lane = per_lane
        self._in_flight: dict[str, bool] = {}  # delivery id -> urgent
        self._slots = {True: asyncio.Semaphore(per_lane), False: asyncio.Semaphore(per_lane)}

    def add(self, delivery_id: str, *, urgent: bool) -> bool:
        if delivery_id in self._in_flight:
            return False
        self._in_flight[delivery_id] = urgent
        return True

    def discard(self, delivery_id: str) -> None:
        self._in_flight.pop(delivery_id, None)

    def slot(self, *, urgent: bool) -> asyncio.Semaphore:
        return self._slots[urgent]

    def room(self, *, urgent: bool) -> int:
        return self.per_lane - sum(1 for lane in self._in_flight.values() if lane == urgent)

    def ids(self) -> set[str]:
        return set(self._in_flight)


class StreamSlots:
    """Live inbox streams per user on this instance, so one user cannot hold the database's poll
    capacity with thousands of streams."""

    def __init__(self) -> None:
        self._open: dict[str, int] = defaultdict(int)

    def take(self, user: str, *, limit: int) -> bool:
        if self._open[user] >= limit:
            return False
        self._open[user] += 1
        return True

    def give_back(self, user: str) -> None:
        self._open[user] -= 1
        if self._open[user] <= 0:
            del self._open[user]


@dataclass
class NotificationsContext:
    repo: NotificationsRepository
    outbox: Outbox
    settings: NotificationsSettings
    channels: dict[str, DeliveryChannel]
    idempotency: IdempotencyStore
    source: str
    tasks: TaskSupervisor
    """The service's supervised task group (failures logged and counted; drained at shutdown)."""
    hub: InboxHub = field(default_factory=InboxHub)
    streams: StreamSlots = field(default_factory=StreamSlots)
    deliveries: DeliveryLanes = field(init=False)

    def __post_init__(self) -> None:
        self.deliveries = DeliveryLanes(self.settings.delivery_concurrency)

    def spawn(self, coro: Coroutine[Any, Any, Any], **context: Any) -> None:
        self.tasks.spawn(coro, **context)


def get_context(request: Request) -> NotificationsContext:
    ctx: NotificationsContext = request.app.state.services
    return ctx


Context = Annotated[NotificationsContext, Depends(get_context)]
