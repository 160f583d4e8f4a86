"""Messaging figures on the shared broker: the raw aiokafka floor and the notifications consumer.

Floor: an idempotent acks=all producer (as the services' publisher) and a consumer group reading the
same topic with manual commits (as the services' consumer), with no work per message.
Notifications: the same kind of producer feeds its input topics; its consumer group's lag (end
offsets minus committed offsets, read from the broker) shows whether it keeps up."""

from __future__ import annotations

import asyncio
import struct
import time
import uuid
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from bench.http_bench import Profile
from bench.loadgen import open_loop, poll
from bench.stats import Recorder, median_of
from medsupport_shared.event_types import CheckinRecorded, FeedbackSubmitted
from medsupport_shared.events import CloudEvent, new_event, utcnow
from medsupport_shared.kafka import EventPublisher


def _producer(bootstrap: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2)


async def _create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    finally:
        await admin.close()


async def _wait_assigned(consumer: AIOKafkaConsumer, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise RuntimeError("the floor consumer got no partitions")
        await asyncio.sleep(0.05)


async def kafka_floor(bootstrap: str, topic: str, profile: Profile) -> dict[str, Any]:
    """Produce→consume round-trip latency (open loop) and the drain rate of a burst, raw aiokafka."""
    await _create_topic(bootstrap, topic)
    producer = _producer(bootstrap)
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"{topic}.floor", enable_auto_commit=False,
        auto_offset_reset="latest",
    )  # fmt: skip
    await producer.start()
    await consumer.start()
    sent: dict[int, float] = {}
    recorder = Recorder()
    received = 0
    stopping = asyncio.Event()

    async def consume() -> None:
        nonlocal received
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=500)
            now = time.perf_counter()
            for tp, records in batches.items():
                for record in records:
                    seq = struct.unpack(">q", record.value[:8])[0]
                    started = sent.pop(seq, None)
                    if started is not None:
                        recorder.record((now - started) * 1000)
                    received += 1
                await consumer.commit({tp: records[-1].offset + 1})

    reader = asyncio.create_task(consume())
    try:
        await _wait_assigned(consumer)
        payload = b"x" * 600  # about the size of a CloudEvent envelope
        counter = 0

        async def send_one(_: int) -> bool:
            nonlocal counter
            counter += 1
            seq = counter
            sent[seq] = time.perf_counter()
            await producer.send_and_wait(topic, struct.pack(">q", seq) + payload, key=str(seq % 50).encode())
            return True

        rate = 20.0
        await open_loop(rate, 1.0, send_one)  # warm-up (also settles the consumer's start position)
        await poll(lambda: not sent, 5)
        sent.clear()
        runs = []
        for _ in range(profile.latency_runs):
            recorder.samples.clear()
            await open_loop(rate, profile.latency_seconds, send_one)
            await poll(lambda: not sent, 10)
            for _ in range(len(sent)):
                recorder.fail("lost")
            sent.clear()
            runs.append(recorder.summary())
        latency = {"offered_rate": rate, **median_of(runs), "per_run": runs}

        # Capacity: a burst of N messages, drained by the consumer; rate = N / (last received - first sent).
        n = profile.kafka_burst
        base = received
        began = time.perf_counter()
        futures = [
            await producer.send(topic, struct.pack(">q", -1) + payload, key=str(i % 50).encode()) for i in range(n)
        ]
        await asyncio.gather(*futures)
        await poll(lambda: received - base >= n, 60, interval=0.01)
        drain = time.perf_counter() - began
        capacity = {"events": n, "seconds": round(drain, 3), "events_per_s": round((received - base) / drain, 1)}
    finally:
        stopping.set()
        await reader
        await consumer.stop()
        await producer.stop()
    return {"round_trip": latency, "burst": capacity}


class LagProbe:
    """The consumer group's lag on some topics, from the broker (what an operator would see)."""

    def __init__(self, bootstrap: str, group: str, topics: list[str]) -> None:
        self.group, self.topics = group, topics
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self.offsets = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        self.partitions: list[TopicPartition] = []

    async def __aenter__(self) -> LagProbe:
        await self.admin.start()
        await self.offsets.start()
        for topic in self.topics:
            for p in self.offsets.partitions_for_topic(topic) or await self._partitions(topic):
                self.partitions.append(TopicPartition(topic, p))
        return self

    async def _partitions(self, topic: str) -> set[int]:
        await self.offsets._client.force_metadata_update()
        return self.offsets.partitions_for_topic(topic) or set()

    async def __aexit__(self, *exc: object) -> None:
        await self.offsets.stop()
        await self.admin.close()

    async def lag(self) -> int:
        ends = await self.offsets.end_offsets(self.partitions)
        committed = await self.admin.list_consumer_group_offsets(self.group, partitions=self.partitions)
        total = 0
        for tp in self.partitions:
            done = committed.get(tp)
            total += max(0, ends[tp] - (done.offset if done is not None and done.offset >= 0 else 0))
        return total


def notification_events(run: str) -> Callable[[int], CloudEvent]:
    """A realistic mix: 4 routine check-ins recorded for every feedback.submitted (which creates an alert)."""

    def make(seq: int) -> CloudEvent:
        student = f"tp{run}-s{seq % 400}"
        if seq % 5 == 4:
            return new_event(
                FeedbackSubmitted(
                    feedback_id=uuid.uuid4().hex, student_id=student, author_id="bench-faculty", kind="narrative",
                    context="ward round", submitted_at=utcnow(),
                ),
                source="/services/feedback",
            )  # fmt: skip
        return new_event(
            CheckinRecorded(
                checkin_id=uuid.uuid4().hex, student_id=student, instrument="who5", severity="none",
                recorded_at=utcnow(), cohort="2027",
            ),
            source="/services/wellbeing",
        )  # fmt: skip

    return make


async def notifications_throughput(
    *, bootstrap: str, prefix: str, group: str, topics: list[str], profile: Profile, run: str
) -> dict[str, Any]:
    """Burst capacity of the notifications consumer, then a sustained open-loop rate at 70 % of it
    with the lag sampled twice a second: bounded when the second half never exceeds 1 s of events."""
    publisher = EventPublisher(bootstrap_servers=bootstrap, topic_prefix=prefix, service="bench")
    make = notification_events(run)
    seq = 0

    async def publish_one(_: int = 0) -> bool:
        nonlocal seq
        seq += 1
        await publisher.publish(make(seq))
        return True

    async with LagProbe(bootstrap, group, topics) as probe:

        async def wait_drained(timeout: float) -> float:
            began = time.perf_counter()
            while await probe.lag() > 0:
                if time.perf_counter() - began > timeout:
                    break
                await asyncio.sleep(0.1)
            return time.perf_counter() - began

        for _ in range(20):  # warm-up
            await publish_one()
        await wait_drained(60)

        n = profile.notifications_burst
        began = time.perf_counter()
        for chunk in range(0, n, 100):
            await asyncio.gather(*(publish_one() for _ in range(min(100, n - chunk))))
        produced = time.perf_counter() - began
        await wait_drained(120)
        total = time.perf_counter() - began
        burst = {
            "events": n,
            "produce_seconds": round(produced, 3),
            "drain_seconds": round(total, 3),
            "events_per_s": round(n / total, 1),
        }

        rate = max(1.0, round(0.7 * n / total, 1))
        seconds = profile.sustained_seconds
        samples: list[tuple[float, int]] = []
        stop = asyncio.Event()

        async def sample() -> None:
            start = time.perf_counter()
            while not stop.is_set():
                samples.append((round(time.perf_counter() - start, 2), await probe.lag()))
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        result = await open_loop(rate, seconds, publish_one)
        stop.set()
        await sampler
        drain_after = await wait_drained(60)
        second_half = [lag for t, lag in samples if t >= seconds / 2]
        limit = max(20.0, rate * 1.0)
        sustained = {
            "offered_rate": rate,
            "achieved_rate": round(result.achieved_rate, 1),
            "seconds": seconds,
            "max_lag": max((lag for _, lag in samples), default=0),
            "max_lag_second_half": max(second_half, default=0),
            "bounded": bool(second_half) and max(second_half) <= limit,
            "bound": limit,
            "drain_after_stop_s": round(drain_after, 2),
            "lag_samples": samples,
        }
    await publisher.stop()
    return {"burst": burst, "sustained": sustained}
