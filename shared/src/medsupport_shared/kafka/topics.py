"""Topic creation at start and a cheap broker probe for /readyz."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from medsupport_shared.event_types import dead_letter_topic
from medsupport_shared.kafka_security import PLAINTEXT, KafkaSecurity

log = logging.getLogger(__name__)
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicRetention:
    """Events carry student ids, severities and flag reasons, and a topic cannot forget one student: every
    record is deleted once older than ``retention_ms`` instead. Segments roll every ``segment_ms`` so that
    deletion happens within a day of expiry (Kafka deletes whole closed segments only)."""

    retention_ms: int = 7 * DAY_MS
    segment_ms: int = DAY_MS

    def topic_config(self) -> dict[str, str]:
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(self.retention_ms),
            "segment.ms": str(min(self.segment_ms, self.retention_ms)),
        }


async def ensure_topics(
    *,
    bootstrap_servers: str,
    topics: Iterable[str],
    partitions: int = 3,
    replication: int = 1,
    security: KafkaSecurity = PLAINTEXT,
    retention: TopicRetention | None = None,
) -> None:
    """Create each topic and its ``.dlq`` twin when missing (names already carry any prefix), with the
    retention of topics that carry personal data (``retention``; default ``TopicRetention()``)."""
    config = (retention or TopicRetention()).topic_config()
    names = sorted({name for topic in topics for name in (topic, dead_letter_topic(topic))})
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **security.client_options()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(n, num_partitions=partitions, replication_factor=replication, topic_configs=config)
            for n in names
            if n not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
            log.info("topics created", extra={"topics": [t.name for t in missing]})
            await _until_listed(admin, names)
        await _apply_retention(admin, names, config)
    finally:
        await admin.close()


async def _apply_retention(admin: AIOKafkaAdminClient, names: list[str], config: dict[str, str]) -> None:
    """A topic that existed already (created by an older version, or auto-created by a consumer's metadata
    request) gets the retention too. Best effort: a service without AlterConfigs on a topic leaves it as is."""
    try:
        responses = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        current = {
            name: {entry[0]: entry[1] for entry in entries}
            for response in responses
            for error, _, _, name, entries in response.resources
            if error == 0
        }
        stale = [n for n in names if n in current and any(current[n].get(k) != v for k, v in config.items())]
        if stale:
            await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, n, dict(config)) for n in stale])
            log.info("topic retention applied", extra={"topics": stale})
    except KafkaError as exc:
        log.warning("could not apply the topic retention", extra={"topics": names, "error": repr(exc)})


async def _until_listed(admin: AIOKafkaAdminClient, names: list[str], timeout: float = 15.0) -> None:
    """Creation is acknowledged before every broker's metadata shows the topic: wait (with a deadline) so that
    callers can subscribe and describe at once."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not set(names) <= set(await admin.list_topics()):
        if asyncio.get_running_loop().time() > deadline:
            log.warning("created topics not listed yet", extra={"topics": names})
            return
        await asyncio.sleep(0.1)


async def delete_topics_with_prefix(
    *, bootstrap_servers: str, prefix: str, security: KafkaSecurity = PLAINTEXT
) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (a test's or a benchmark's own topics)."""
    if not prefix:
        raise ValueError("refusing to delete every topic: the prefix is empty")
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **security.client_options()
    )
    await admin.start()
    try:
        doomed = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if doomed:
            await admin.delete_topics(doomed)
        return doomed
    finally:
        await admin.close()


async def kafka_answers(bootstrap_servers: str, timeout: float = 1.5, security: KafkaSecurity = PLAINTEXT) -> bool:
    """An ApiVersions round trip to the first bootstrap server that answers (over TLS when the listener
    uses it; a SASL listener answers ApiVersions before authentication)."""
    request = struct.pack(">hhih", 18, 0, 7, 9) + b"readiness"
    context = security.ssl_context()
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            connect = asyncio.open_connection(host or "127.0.0.1", int(port), ssl=context)
            reader, writer = await asyncio.wait_for(connect, timeout)
        except (OSError, TimeoutError, ValueError):
            continue
        try:
            writer.write(struct.pack(">i", len(request)) + request)
            await writer.drain()
            size = struct.unpack(">i", await asyncio.wait_for(reader.readexactly(4), timeout))[0]
            payload = await asyncio.wait_for(reader.readexactly(size), timeout)
            correlation_id, error_code = struct.unpack(">ih", payload[:6])
            if correlation_id == 7 and error_code == 0:
                return True
        except (OSError, TimeoutError, asyncio.IncompleteReadError, struct.error):
            continue
        finally:
            writer.close()
    return False
