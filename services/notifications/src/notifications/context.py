"""What the notifications use cases need, wired once in app.py."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import Outbox
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


@dataclass
class NotificationsContext:
    repo: NotificationsRepository
    outbox: Outbox
    settings: NotificationsSettings
    channels: dict[str, DeliveryChannel]
    idempotency: IdempotencyStore
    source: str
    hub: InboxHub = field(default_factory=InboxHub)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
