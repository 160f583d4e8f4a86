"""The consumer runner: typed events to handlers, manual commits after success, bounded retries for
failing handlers, a dead-letter topic for poison messages, unbounded patience for outages.

Guarantees: at-least-once delivery from Kafka (commit after the handler succeeds, also on partition
revocation), exactly-once effect through the inbox (event id), and no message skipped: a message is
committed only after it was handled, ignored (a type this consumer does not handle), or
dead-lettered with its reason.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, IllegalStateError, KafkaError
from pydantic import ValidationError

from medsupport_shared import correlation
from medsupport_shared.event_types import EVENT_CATALOG, StudentErasureRequested, owner_source
from medsupport_shared.events import CloudEvent, EventData
from medsupport_shared.inbox import Inbox
from medsupport_shared.kafka.publisher import EventPublisher, PublishFailed
from medsupport_shared.metrics import (
    CONSUMER_LAG,
    EVENT_HANDLER_LATENCY,
    EVENTS_CONSUMED,
    EVENTS_DEAD_LETTERED,
)
from medsupport_shared.mongo import is_transient
from medsupport_shared.redaction import describe_error, is_validation_error

EventHandler = Callable[[CloudEvent, Any], Awaitable[None]]
"""``async def handler(event, payload)``; ``payload`` is the typed model of ``event.type``."""
Handlers = Mapping[type[EventData], EventHandler]
"""A consumer's handlers keyed by payload class: a class that is not in the event catalogue is an error at
start-up, never an event type silently ignored."""


def by_event_type(handlers: Handlers) -> dict[str, EventHandler]:
    """The handlers keyed by the wire's event type, each payload class checked against the catalogue."""
    table: dict[str, EventHandler] = {}
    for payload_type, handler in handlers.items():
        spec = EVENT_CATALOG.get(getattr(payload_type, "event_type", ""))
        if spec is None or spec.model is not payload_type:
            name = getattr(payload_type, "__name__", repr(payload_type))
            raise ValueError(f"{name} is not an event of the catalogue (handlers are keyed by payload class)")
        table[spec.event_type] = handler
    return table


log = logging.getLogger(__name__)
IGNORED_COMMIT_SECONDS = 1.0
"""How long offsets moved on only by ignored events may wait for a commit while events keep coming."""


class _Outage(Exception):
    """A dependency is down: stop, do not commit, come back later."""


class EventConsumer:
    def __init__(
        self,
        *,
        name: str,
        topics: list[str],
        handlers: Handlers,
        group_id: str,
        bootstrap_servers: str,
        publisher: EventPublisher,
        inbox: Inbox,
        service: str,
        max_retries: int = 3,
        retry_backoff: float = 0.2,
        max_outage_backoff: float = 5.0,
    ) -> None:
        self.name = name
        self._topics = [publisher.topic(t) for t in topics]
        self._handlers = by_event_type(handlers)
        self._erasure_topic = publisher.topic(StudentErasureRequested.topic)
        self._group_id = group_id
        self._bootstrap = bootstrap_servers
        self._publisher = publisher
        self._inbox = inbox
        self._service = service
        self._max_retries = max_retries
        self._backoff = retry_backoff
        self._max_outage_backoff = max_outage_backoff
        self._stopping = asyncio.Event()
        self._consumer: AIOKafkaConsumer | None = None
        self._processed: dict[TopicPartition, int] = {}
        self._committed_at: dict[TopicPartition, float] = {}
        self.assigned = asyncio.Event()
        """Set once partitions are assigned (tests wait on it)."""

    # ------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Consume until ``stop()``; reconnects after broker or database outages."""
        outage_backoff = self._backoff
        while not self._stopping.is_set():
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._bootstrap,
                group_id=self._group_id,
                client_id=f"medsupport-{self._service}-{self.name}",
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                session_timeout_ms=10000,
                heartbeat_interval_ms=2000,
                **self._publisher.security.client_options(),
            )
            consumer.subscribe(self._topics, listener=_CommitOnRevoke(self))
            try:
                await consumer.start()
                self._consumer = consumer
                await self._consume(consumer)
                outage_backoff = self._backoff
            except (KafkaError, OSError, _Outage) as exc:
                log.warning("consumer interrupted; will reconnect", extra={"consumer": self.name, "error": repr(exc)})
                await self._sleep(outage_backoff)
                outage_backoff = min(outage_backoff * 2, self._max_outage_backoff)
            finally:
                self.assigned.clear()
                await self._commit(consumer)
                self._processed.clear()
                self._consumer = None
                try:
                    await consumer.stop()
                except (KafkaError, OSError) as exc:
                    log.warning("consumer did not stop cleanly", extra={"error": repr(exc)})

    async def stop(self) -> None:
        self._stopping.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            pass

    # ------------------------------------------------------------ the loop

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while not self._stopping.is_set():
            batches = await consumer.getmany(timeout_ms=300, max_records=200)
            if not batches:
                await self._commit(consumer)  # what only ignored events moved on, once things are quiet
            elif any(tp.topic == self._erasure_topic for tp in batches):
                # An erasure request is not worked beside events that may be about the same student: a
                # handler mid-way could write after the erasure. Such a batch goes one partition at a time.
                for tp, records in batches.items():
                    await self._consume_partition(consumer, tp, records)
            else:
                await self._side_by_side(consumer, batches)
            self._report_lag(consumer)

    async def _side_by_side(
        self, consumer: AIOKafkaConsumer, batches: Mapping[TopicPartition, list[ConsumerRecord[Any, Any]]]
    ) -> None:
        """Partitions worked side by side, each in order (Kafka's only ordering promise), as replicas sharing
        the group would: one partition's database round trips overlap another's. A failure in one cancels
        the others; nothing of theirs past the last commit is lost (the inbox and idempotent handlers make the
        redelivery a no-op)."""
        try:
            async with asyncio.TaskGroup() as partitions:
                for tp, records in batches.items():
                    partitions.create_task(self._consume_partition(consumer, tp, records))
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from failed  # what the loop handles (an outage, a broker error), as if alone

    async def _consume_partition(
        self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord[Any, Any]]
    ) -> None:
        worked = False
        for record in records:
            if self._stopping.is_set():
                break
            worked = await self._process(record) or worked
            self._processed[tp] = record.offset + 1
        # A commit is a broker round trip; events this consumer only ignored (most of a shared topic: every
        # routine check-in, for the services that want flags) need not be committed one batch at a time.
        # Should the process die first, they are read and ignored again.
        if worked or time.monotonic() - self._committed_at.get(tp, 0.0) >= IGNORED_COMMIT_SECONDS:
            await self._commit(consumer, [tp])

    async def _commit(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition] | None = None) -> None:
        offsets = {tp: off for tp, off in self._processed.items() if partitions is None or tp in partitions}
        if not offsets:
            return
        try:
            await consumer.commit(offsets)
            self._committed_at.update(dict.fromkeys(offsets, time.monotonic()))
        except (CommitFailedError, IllegalStateError, KafkaError) as exc:
            # Partitions moved to another member: it resumes from the last commit and the inbox
            # turns the redelivery into a no-op.
            log.info("commit skipped", extra={"consumer": self.name, "error": repr(exc)})
        for tp in offsets:
            if self._processed.get(tp) == offsets[tp]:
                del self._processed[tp]

    def _report_lag(self, consumer: AIOKafkaConsumer) -> None:
        for tp in consumer.assignment():
            highwater = consumer.highwater(tp)
            last = consumer.last_stable_offset(tp)
            if highwater is None:
                continue
            committed = self._processed.get(tp, last if last is not None else highwater)
            CONSUMER_LAG.labels(self._service, self.name, tp.topic, str(tp.partition)).set(
                max(0, highwater - committed)
            )

    # ------------------------------------------------------------ one message

    async def _process(self, record: ConsumerRecord[Any, Any]) -> bool:
        """Work one record; False when it was only ignored (no handler here), so its commit may wait."""
        correlation.bind_from_kafka_headers(record.headers)
        topic = record.topic
        try:
            event = CloudEvent.model_validate_json(record.value or b"")
        except ValidationError as exc:
            await self._dead_letter(record, "invalid_envelope", _summary(exc))
            return True
        handler = self._handlers.get(event.type)
        # A catalogue type is checked against its owner even where this consumer does not handle it: a
        # ``flag.raised`` forged onto feedback's topic must leave a dead letter (the ops signal), not vanish.
        if handler is not None or event.type in EVENT_CATALOG:
            untrusted = self._untrusted(record, event)
            if untrusted is not None:
                await self._dead_letter(record, *untrusted, event.type)
                return True
        if handler is None:
            label = event.type if event.type in EVENT_CATALOG else "unknown"  # forged types: no new label values
            EVENTS_CONSUMED.labels(self._service, topic, label, "ignored").inc()
            return False
        try:
            payload = event.payload()
        except (ValidationError, KeyError) as exc:
            await self._dead_letter(record, "invalid_payload", _summary(exc), event.type)
            return True
        if await self._patiently(lambda: self._inbox.seen(consumer=self.name, event_id=event.id)):
            EVENTS_CONSUMED.labels(self._service, topic, event.type, "duplicate").inc()
            return True
        if not await self._handle_with_retries(record, event, payload, handler):
            return True
        await self._patiently(lambda: self._inbox.record(consumer=self.name, event=event))
        EVENTS_CONSUMED.labels(self._service, topic, event.type, "processed").inc()
        return True

    def _untrusted(self, record: ConsumerRecord[Any, Any], event: CloudEvent) -> tuple[str, str] | None:
        """Each event type is accepted only from its owning topic and service (the topic's ACL lets only that
        service write it): a ``flag.resolved`` or ``student.erasure.requested`` written anywhere else, or
        claiming another source, is a forgery, dead-lettered with the reason."""
        spec = EVENT_CATALOG.get(event.type)
        if spec is None:  # a handler for a type the catalogue does not know: no owner to check against
            return "untrusted_type", f"{event.type} is not in the event catalogue"
        expected_topic = self._publisher.topic(spec.topic)
        if record.topic != expected_topic:
            return "untrusted_topic", f"{event.type} is accepted only from {expected_topic}, not {record.topic}"
        expected_source = owner_source(event.type)
        if event.source != expected_source:
            return "untrusted_source", f"{event.type} is accepted only from {expected_source}, not {event.source!r}"
        return None

    async def _handle_with_retries(
        self, record: ConsumerRecord[Any, Any], event: CloudEvent, payload: Any, handler: EventHandler
    ) -> bool:
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                await handler(event, payload)
            except Exception as exc:
                if is_transient(exc):
                    await self._wait_out_outage(exc)
                    continue
                attempt += 1
                if attempt > self._max_retries:
                    log.error(
                        "handler failed; dead-lettering",
                        exc_info=None if is_validation_error(exc) else exc,
                        extra={
                            "event_id": event.id,
                            "event_type": event.type,
                            "attempts": attempt,
                            "error": describe_error(exc),
                        },
                    )
                    await self._dead_letter(
                        record, "handler_failed", f"after {attempt} attempts: {describe_error(exc)}", event.type
                    )
                    return False
                EVENTS_CONSUMED.labels(self._service, record.topic, event.type, "retried").inc()
                await self._sleep(self._backoff * 2 ** (attempt - 1))
                if self._stopping.is_set():
                    raise _Outage("stopping during retries") from exc
                continue
            EVENT_HANDLER_LATENCY.labels(self._service, event.type).observe(time.perf_counter() - started)
            return True

    async def _patiently(self, operation: Callable[[], Awaitable[Any]]) -> Any:
        while True:
            try:
                return await operation()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                await self._wait_out_outage(exc)

    async def _wait_out_outage(self, exc: BaseException) -> None:
        log.warning("database unavailable; holding the message", extra={"consumer": self.name, "error": repr(exc)})
        await self._sleep(self._max_outage_backoff)
        if self._stopping.is_set():
            raise _Outage("stopping during an outage") from exc

    async def _dead_letter(
        self, record: ConsumerRecord[Any, Any], reason: str, error: str, event_type: str = "unknown"
    ) -> None:
        headers = [
            *list(record.headers or ()),
            ("dlq_reason", reason.encode()),
            ("dlq_error", error[:2000].encode()),
            ("dlq_source_topic", record.topic.encode()),
            ("dlq_source_partition", str(record.partition).encode()),
            ("dlq_source_offset", str(record.offset).encode()),
            ("dlq_consumer", f"{self._group_id}/{self.name}".encode()),
            ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        try:
            await self._publisher.send_raw(
                f"{record.topic}.dlq",
                value=record.value or b"",
                key=record.key,
                headers=headers,
                event_type=event_type,
            )
        except PublishFailed as exc:
            raise _Outage("dead-letter topic unavailable") from exc
        EVENTS_DEAD_LETTERED.labels(self._service, record.topic, reason).inc()
        EVENTS_CONSUMED.labels(self._service, record.topic, event_type, "dead_lettered").inc()
        log.warning(
            "message dead-lettered",
            extra={"reason": reason, "error": error[:300], "topic": record.topic, "offset": record.offset},
        )


class _CommitOnRevoke(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, runner: EventConsumer) -> None:
        self._runner = runner

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        consumer = self._runner._consumer
        if consumer is not None and revoked:
            await self._runner._commit(consumer, list(revoked))
        self._runner.assigned.clear()

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self._runner.assigned.set()


def _summary(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())[:2000]
    return repr(exc)[:2000]
