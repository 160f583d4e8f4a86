"""Dead-lettered events: list them with the reason each consumer gave, and replay chosen ones to the
topic they came from. Replaying is safe to repeat: every consumer skips an event id it has handled."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from medsupport_shared.kafka import EventPublisher

DLQ_SUFFIX = ".dlq"
REPLAY_HEADER = "replayed_from"


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...]

    def header(self, name: str) -> str:
        return next((v.decode(errors="replace") for k, v in self.headers if k == name), "")

    @property
    def ref(self) -> str:
        """``topic/partition/offset``: how a person names one dead letter to replay."""
        return f"{self.topic}/{self.partition}/{self.offset}"

    @property
    def source_topic(self) -> str:
        return self.header("dlq_source_topic") or self.topic.removesuffix(DLQ_SUFFIX)


async def dead_letter_partitions(bootstrap_servers: str, prefix: str = "") -> list[TopicPartition]:
    """Every partition of every dead-letter topic whose name starts with ``prefix``."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10000)
    await admin.start()
    try:
        topics = sorted(t for t in await admin.list_topics() if t.endswith(DLQ_SUFFIX) and t.startswith(prefix))
        described = await admin.describe_topics(topics) if topics else []
    finally:
        await admin.close()
    return sorted(
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        for partition in topic.get("partitions", [])
    )


async def read_dead_letters(bootstrap_servers: str, partitions: list[TopicPartition]) -> list[DeadLetter]:
    """Everything in the given partitions up to their current end (no consumer group, nothing committed)."""
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False, group_id=None)
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
        while remaining:
            batch = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batch.items():
                letters += [
                    DeadLetter(r.topic, r.partition, r.offset, r.key, r.value or b"", tuple(r.headers or ()))
                    for r in records
                    if r.offset < ends[tp]
                ]
            remaining = {tp for tp in remaining if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
    return sorted(letters, key=lambda d: (d.topic, d.partition, d.offset))


async def replay(bootstrap_servers: str, letters: Iterable[DeadLetter]) -> int:
    """Send each letter back to its source topic with its key and original headers (not the dlq_* ones)."""
    publisher = EventPublisher(bootstrap_servers=bootstrap_servers, topic_prefix="", service="cli")
    sent = 0
    try:
        for letter in letters:
            headers = [(k, v) for k, v in letter.headers if not k.startswith("dlq_") and k != REPLAY_HEADER]
            headers.append((REPLAY_HEADER, letter.ref.encode()))
            await publisher.send_raw(
                letter.source_topic, value=letter.value, key=letter.key, headers=headers, event_type="replayed"
            )
            sent += 1
    finally:
        await publisher.stop()
    return sent
