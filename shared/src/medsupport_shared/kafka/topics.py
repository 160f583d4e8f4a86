"""Topic creation at start and a cheap broker probe for /readyz."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from medsupport_shared.event_types import dead_letter_topic
from medsupport_shared.kafka_security import PLAINTEXT, KafkaSecurity

log = logging.getLogger(__name__)


async def ensure_topics(
    *,
    bootstrap_servers: str,
    topics: Iterable[str],
    partitions: int = 3,
    replication: int = 1,
    security: KafkaSecurity = PLAINTEXT,
) -> None:
    """Create each topic and its ``.dlq`` twin when missing (names already carry any prefix)."""
    names = sorted({name for topic in topics for name in (topic, dead_letter_topic(topic))})
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers, request_timeout_ms=10000, **security.client_options()
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(n, num_partitions=partitions, replication_factor=replication) for n in names if n not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
            log.info("topics created", extra={"topics": [t.name for t in missing]})
    finally:
        await admin.close()


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
