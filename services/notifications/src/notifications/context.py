"""What the notifications use cases need, wired once in app.py."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import Outbox
from notifications.channels import DeliveryChannel
from notifications.repository import NotificationsRepository
from notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)


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
    hub: InboxHub = field(default_factory=InboxHub)
    streams: StreamSlots = field(default_factory=StreamSlots)
    deliveries_in_flight: set[str] = field(default_factory=set)
    """Delivery ids this instance is attempting or about to attempt (the sweep leaves them alone)."""
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    delivery_slots: asyncio.Semaphore = field(init=False)

    def __post_init__(self) -> None:
        self.delivery_slots = asyncio.Semaphore(self.settings.delivery_concurrency)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        """No background task dies silently: its exception is logged here (the work itself is left in
        MongoDB state that a sweep picks up again)."""
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task failed", exc_info=exc)
