"""A service's process resources, started and stopped by the app's lifespan (never at import time):
the Mongo client and database, the publisher, outbox relay, inbox, idempotency store, consumers and
periodic sweeps."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.event_types import dead_letter_topic
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.inbox import Inbox
from medsupport_shared.kafka import (
    EventConsumer,
    EventPublisher,
    Handlers,
    TopicRetention,
    ensure_topics,
    kafka_answers,
)
from medsupport_shared.metrics import DEPENDENCY_UP
from medsupport_shared.mongo import create_client, ping
from medsupport_shared.outbox import Outbox
from medsupport_shared.redaction import redact_credentials
from medsupport_shared.serialized import serialized
from medsupport_shared.settings import ServiceSettings
from medsupport_shared.supervision import TaskSupervisor

log = logging.getLogger(__name__)
Document = dict[str, Any]
Periodic = Callable[[], Awaitable[Any]]


class ServiceRuntime:
    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.publisher = EventPublisher(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic_prefix=settings.kafka_topic_prefix,
            service=settings.service_name,
            security=settings.kafka_security,
        )
        self._client: Any = None
        self._db: AsyncDatabase[Document] | None = None
        self._outbox: Outbox | None = None
        self._consumers: list[EventConsumer] = []
        self._periodic: list[tuple[str, float, Periodic]] = []
        self._topics: set[str] = set()
        self.readiness_requires: set[str] = {"mongodb"}
        """What /readyz needs to answer 200: the service can serve its core routes (see ``ready_requires``)."""
        self.tasks = TaskSupervisor(settings.service_name)
        """The service's one supervised task group: loops, sweeps, consumers and fire-and-forget work."""
        self._on_stop: list[Callable[[], Awaitable[Any]]] = []
        self.inbox: Inbox
        self.idempotency: IdempotencyStore

    # ------------------------------------------------------------ accessors

    @property
    def db(self) -> AsyncDatabase[Document]:
        if self._db is None:
            raise RuntimeError("the runtime has not started")
        return self._db

    @property
    def outbox(self) -> Outbox:
        if self._outbox is None:
            raise RuntimeError("the runtime has not started")
        return self._outbox

    @property
    def consumers(self) -> list[EventConsumer]:
        return list(self._consumers)

    # ------------------------------------------------------------ composition (before start_background)

    def publishes_to(self, *topics: str) -> None:
        self._topics.update(topics)

    def add_consumer(self, *, name: str, topics: list[str], handlers: Handlers, lane: str = "") -> EventConsumer:
        """A consumer runner in the service's consumer group; a ``lane`` gets a group of its own
        (``<group>.<lane>``), so its events never queue behind the main consumer's (e.g. urgent flags
        behind routine check-ins). Event types without a handler are skipped without touching the database."""
        s = self.settings
        consumer = EventConsumer(
            name=name,
            topics=topics,
            handlers=handlers,
            group_id=f"{s.consumer_group}.{lane}" if lane else s.consumer_group,
            bootstrap_servers=s.kafka_bootstrap_servers,
            publisher=self.publisher,
            inbox=self.inbox,
            service=s.service_name,
            max_retries=s.kafka_max_retries,
            retry_backoff=s.kafka_retry_backoff_seconds,
        )
        self._consumers.append(consumer)
        self._topics.update(topics)
        return consumer

    def on_stop(self, callback: Callable[[], Awaitable[Any]]) -> None:
        """Release a resource of the service's own (an HTTP client, say) when the runtime stops."""
        self._on_stop.append(callback)

    def every(self, seconds: float, name: str, job: Periodic) -> None:
        """Run ``job`` every ``seconds`` (sweeps: overdue, escalation, reminders, retention)."""
        self._periodic.append((name, seconds, job))

    # ------------------------------------------------------------ lifecycle

    async def start_storage(self, *, attempts: int = 20) -> None:
        self._client = create_client(self.settings.mongo_url)
        self._db = serialized(self._client[self.settings.database_name])
        for attempt in range(attempts):
            if await ping(self._db):
                break
            log.warning("mongodb not answering yet", extra={"attempt": attempt + 1})
            await asyncio.sleep(1.0)
        else:
            raise RuntimeError(f"MongoDB at {redact_credentials(self.settings.mongo_url)} did not answer")
        self.inbox = Inbox(self._db)
        self.idempotency = IdempotencyStore(
            self._db, cipher=FieldCipher(self.settings.data_encryption_key), secret=self.settings.idempotency_secret
        )
        await self.inbox.ensure_indexes()
        await self.idempotency.ensure_indexes()
        self._outbox = Outbox(
            db=self._db,
            publisher=self.publisher,
            service=self.settings.service_name,
            tasks=self.tasks,
            grace_seconds=self.settings.outbox_grace_seconds,
        )

    async def start_background(self) -> None:
        tasks = self.tasks
        tasks.spawn(self.publisher.start(), name="publisher-start")
        tasks.supervise("topics", self._ensure_topics_until_done)
        tasks.every(self.settings.outbox_relay_interval_seconds, "outbox-relay", self.outbox.relay_once)
        tasks.every(3600, "housekeeping", self._housekeeping)
        for consumer in self._consumers:
            tasks.supervise(f"consumer-{consumer.name}", consumer.run)
        for name, seconds, job in self._periodic:
            tasks.every(seconds, name, job)

    async def stop(self) -> None:
        """Consumers finish their message and commit, loops stop, then in-flight background work
        (publishes, deliveries) is drained before the clients it uses are closed."""
        for consumer in self._consumers:
            await consumer.stop()
        await self.tasks.wait_for([f"consumer-{c.name}" for c in self._consumers], timeout=15)
        await self.tasks.stop_loops()
        await self.tasks.drain(timeout=10)
        for callback in reversed(self._on_stop):
            with contextlib.suppress(Exception):
                await callback()
        await self.publisher.stop()
        if self._client is not None:
            await self._client.close()

    def ready_requires(self, *dependencies: str) -> None:
        """Add dependencies the service's core routes cannot do without (``"kafka"`` for a route that
        publishes straight to Kafka). By default only MongoDB: routes that publish go through the outbox,
        which holds their events while Kafka is down."""
        self.readiness_requires.update(dependencies)

    async def readiness(self) -> dict[str, bool]:
        """Each dependency's state (both probed at once, each within 2 s); ready is decided by
        ``readiness_requires``."""
        mongo_ok, kafka_ok = await asyncio.gather(
            _with_timeout(ping(self._db), 2.0) if self._db is not None else _false(),
            _with_timeout(
                kafka_answers(self.settings.kafka_bootstrap_servers, security=self.settings.kafka_security), 2.0
            ),
        )
        for name, up in (("mongodb", mongo_ok), ("kafka", kafka_ok)):
            DEPENDENCY_UP.labels(self.settings.service_name, name).set(1 if up else 0)
        return {"mongodb": mongo_ok, "kafka": kafka_ok}

    # ------------------------------------------------------------ internals

    async def _ensure_topics_until_done(self) -> None:
        names = sorted(self.publisher.topic(t) for t in self._topics)
        delay = 0.5
        while True:
            try:
                await ensure_topics(
                    bootstrap_servers=self.settings.kafka_bootstrap_servers,
                    topics=names,
                    security=self.settings.kafka_security,
                    retention=TopicRetention(retention_ms=int(self.settings.kafka_topic_retention_hours * 3600_000)),
                )
                return
            except Exception as exc:
                log.warning("could not ensure topics yet", extra={"error": repr(exc), "topics": names})
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def _housekeeping(self) -> None:
        try:
            await self.inbox.forget_older_than_retention()
            await self.idempotency.forget_expired()
        except PyMongoError as exc:
            log.warning("housekeeping skipped", extra={"error": repr(exc)})


async def _false() -> bool:
    return False


async def _with_timeout(awaitable: Awaitable[bool], seconds: float) -> bool:
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        return False


__all__ = ["ServiceRuntime", "dead_letter_topic"]
