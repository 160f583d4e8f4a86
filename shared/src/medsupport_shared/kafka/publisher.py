"""An idempotent Kafka producer (acks=all) that starts lazily and survives broker outages."""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from medsupport_shared import correlation
from medsupport_shared.events import CloudEvent
from medsupport_shared.kafka_security import PLAINTEXT, KafkaSecurity
from medsupport_shared.metrics import EVENTS_PUBLISH_FAILED, EVENTS_PUBLISHED

log = logging.getLogger(__name__)
CONTENT_TYPE_HEADER = ("content-type", b"application/cloudevents+json; charset=utf-8")


class PublishFailed(Exception):
    """The event was not acknowledged by Kafka; it stays in the outbox for the relay."""


class EventPublisher:
    def __init__(
        self,
        *,
        bootstrap_servers: str,
        topic_prefix: str,
        service: str,
        send_timeout: float = 10.0,
        security: KafkaSecurity = PLAINTEXT,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self.security = security
        self.topic_prefix = topic_prefix
        self._service = service
        self._timeout = send_timeout
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    async def _ensure_started(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    client_id=f"medsupport-{self._service}",
                    enable_idempotence=True,
                    acks="all",
                    linger_ms=2,
                    request_timeout_ms=int(self._timeout * 1000),
                    **self.security.client_options(),
                )
                try:
                    await asyncio.wait_for(producer.start(), self._timeout)
                except (KafkaError, OSError, TimeoutError) as exc:
                    await producer.stop()
                    raise PublishFailed(f"kafka unavailable: {exc!r}") from exc
                self._producer = producer
        return self._producer

    async def start(self) -> None:
        """Try to connect now; a failure is not fatal (publishing retries through the outbox)."""
        try:
            await self._ensure_started()
        except PublishFailed as exc:
            log.warning("kafka producer not started yet", extra={"error": str(exc)})

    async def publish(self, event: CloudEvent, *, headers: list[tuple[str, bytes]] | None = None) -> None:
        """Send one event keyed by its subject and wait for acks from all in-sync replicas. The record's
        timestamp is the event's own ``time``, never the send time: an anonymous report's event carries a
        time rounded to the hour, and the record must not keep the exact moment beside it."""
        await self.send_raw(
            self.topic(event.topic),
            value=event.model_dump_json().encode(),
            key=event.subject.encode(),
            headers=[
                CONTENT_TYPE_HEADER,
                ("ce_id", event.id.encode()),
                ("ce_type", event.type.encode()),
                *(headers if headers is not None else correlation.kafka_headers()),
            ],
            event_type=event.type,
            timestamp_ms=int(event.time.timestamp() * 1000),
        )

    async def send_raw(
        self,
        topic: str,
        *,
        value: bytes,
        key: bytes | None,
        headers: list[tuple[str, bytes]],
        event_type: str = "raw",
        timestamp_ms: int | None = None,
    ) -> None:
        producer = await self._ensure_started()
        send = producer.send_and_wait(topic, value=value, key=key, headers=headers, timestamp_ms=timestamp_ms)
        try:
            await asyncio.wait_for(send, self._timeout)
        except (KafkaError, OSError, TimeoutError) as exc:
            EVENTS_PUBLISH_FAILED.labels(self._service, topic).inc()
            raise PublishFailed(f"publish to {topic} failed: {exc!r}") from exc
        EVENTS_PUBLISHED.labels(self._service, topic, event_type).inc()

    async def stop(self) -> None:
        if self._producer is not None:
            try:
                await asyncio.wait_for(self._producer.stop(), self._timeout)
            except (KafkaError, OSError, TimeoutError):
                log.warning("kafka producer did not stop cleanly")
            self._producer = None
