"""The consumer runner on the real broker and database: dedup, dead letters, restarts."""

import asyncio
import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client import REGISTRY

from medsupport_shared.event_types import CheckinRecorded, FlagRaised, StudentErasureRequested
from medsupport_shared.events import new_event
from medsupport_shared.inbox import Inbox
from medsupport_shared.kafka import EventConsumer, EventPublisher, ensure_topics
from medsupport_shared.kafka import consumer as consumer_module
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import TopicReader, eventually

pytestmark = pytest.mark.integration
TOPIC = "wellbeing.events.v1"


def checkin(n: int, student: str = "s1"):
    return new_event(
        CheckinRecorded(
            checkin_id=f"c{n}",
            student_id=student,
            instrument="who5",
            severity="none",
            recorded_at=datetime.now(UTC),
        ),
        source="/services/wellbeing",
    )


class Harness:
    """A consumer wired as the runtime wires it, with a recording handler."""

    def __init__(self, isolation, db):
        self.iso, self.db = isolation, db
        self.bootstrap = isolation.infra.kafka_bootstrap_servers
        self.publisher = EventPublisher(
            bootstrap_servers=self.bootstrap, topic_prefix=isolation.topic_prefix, service="test"
        )
        self.handled: list[str] = []
        self.fail_for: set[str] = set()

    async def handler(self, event, payload: CheckinRecorded):
        if payload.student_id in self.fail_for:
            raise RuntimeError(f"cannot handle {payload.checkin_id}")
        self.handled.append(event.id)

    def consumer(self, name="recorder", handler=None) -> EventConsumer:
        return EventConsumer(
            name=name,
            topics=[TOPIC],
            handlers={CheckinRecorded: handler or self.handler},
            group_id=f"{self.iso.topic_prefix}group",
            bootstrap_servers=self.bootstrap,
            publisher=self.publisher,
            inbox=Inbox(self.db),
            service="test",
            max_retries=2,
            retry_backoff=0.01,
        )

    async def send_raw(self, value: bytes, key: bytes = b"s1", partition: int | None = None):
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            await producer.send_and_wait(self.iso.topic(TOPIC), value, key=key, partition=partition)
        finally:
            await producer.stop()


@pytest.fixture
async def harness(isolation):
    client = create_client(isolation.infra.mongo_url)
    db = client[f"consumer_{isolation.run_id}"]
    isolation.databases.append(db.name)
    h = Harness(isolation, db)
    await ensure_topics(bootstrap_servers=h.bootstrap, topics=[isolation.topic(TOPIC)])
    yield h
    await h.publisher.stop()
    await client.close()


async def run_until(consumer: EventConsumer, condition, timeout=30.0):
    task = asyncio.create_task(consumer.run())
    try:
        await eventually(condition, timeout=timeout)
    finally:
        await consumer.stop()
        await asyncio.wait_for(task, 20)


async def test_same_event_delivered_twice_has_one_effect(harness):
    event = checkin(1)
    for _ in range(2):
        await harness.publisher.publish(event)
    marker = checkin(2)
    await harness.publisher.publish(marker)
    await run_until(harness.consumer(), lambda: marker.id in harness.handled)
    assert harness.handled.count(event.id) == 1
    # A later redelivery (here: the same event sent again) to a new member of the group is a no-op.
    harness.handled.clear()
    duplicates_before = duplicates(harness)
    await harness.send_raw(marker.model_dump_json().encode())
    await run_until(harness.consumer(), lambda: duplicates(harness) > duplicates_before)
    assert harness.handled == []


async def test_partitions_are_worked_side_by_side_each_in_order(harness):
    # Each of two events, on two partitions, waits for the other to arrive: worked one after the other,
    # the first would wait in vain.
    arrived = {"a": asyncio.Event(), "b": asyncio.Event()}
    met: dict[str, bool] = {}
    order: list[str] = []

    async def handler(event, payload: CheckinRecorded):
        mine, other = payload.student_id, "b" if payload.student_id == "a" else "a"
        if payload.checkin_id.endswith("-later"):
            order.append(payload.checkin_id)
            return
        arrived[mine].set()
        try:
            await asyncio.wait_for(arrived[other].wait(), 5)
            met[mine] = True
        except TimeoutError:
            met[mine] = False
        order.append(payload.checkin_id)

    for partition, student in enumerate(("a", "b")):
        for suffix in ("", "-later"):
            event = new_event(
                CheckinRecorded(
                    checkin_id=f"{student}{suffix}", student_id=student, instrument="who5", severity="none",
                    recorded_at=datetime.now(UTC),
                ),
                source="/services/wellbeing",
            )  # fmt: skip
            await harness.send_raw(event.model_dump_json().encode(), key=student.encode(), partition=partition)
    await run_until(harness.consumer(handler=handler), lambda: len(order) == 4)
    assert met == {"a": True, "b": True}
    assert order.index("a") < order.index("a-later") and order.index("b") < order.index("b-later")


async def test_a_batch_with_an_erasure_request_is_worked_one_partition_at_a_time(harness):
    # An erasure and a check-in of the same student, each waiting (briefly) for the other: worked side by
    # side they would meet, and a handler could write after the erasure.
    platform = harness.iso.topic(StudentErasureRequested.topic)
    await ensure_topics(bootstrap_servers=harness.bootstrap, topics=[platform])
    arrived = {"erasure": asyncio.Event(), "checkin": asyncio.Event()}
    met: dict[str, bool] = {}

    def waiting(mine: str, other: str):
        async def handler(event, payload):
            arrived[mine].set()
            try:
                await asyncio.wait_for(arrived[other].wait(), 1.5)
                met[mine] = True
            except TimeoutError:
                met[mine] = False

        return handler

    erasure = new_event(
        StudentErasureRequested(student_id="s1", requested_at=datetime.now(UTC), requested_by="lead-1"),
        source="/services/wellbeing",
    )
    await harness.publisher.publish(erasure)
    await harness.publisher.publish(checkin(9))
    consumer = EventConsumer(
        name="ordered",
        topics=[TOPIC, StudentErasureRequested.topic],
        handlers={
            CheckinRecorded: waiting("checkin", "erasure"),
            StudentErasureRequested: waiting("erasure", "checkin"),
        },
        group_id=f"{harness.iso.topic_prefix}ordered",
        bootstrap_servers=harness.bootstrap,
        publisher=harness.publisher,
        inbox=Inbox(harness.db),
        service="test",
    )
    await run_until(consumer, lambda: len(met) == 2)
    assert list(met.values()).count(True) <= 1, met


async def test_events_a_consumer_only_ignores_are_committed_once_things_are_quiet(harness, monkeypatch):
    # Ignored batches within IGNORED_COMMIT_SECONDS of a commit wait for the next batch; made long here, so
    # the second round below is committed only because nothing else is waiting.
    monkeypatch.setattr(consumer_module, "IGNORED_COMMIT_SECONDS", 600.0)

    async def never(event, payload) -> None:
        raise AssertionError("no flag was sent")

    consumer = EventConsumer(
        name="flags-only",
        topics=[TOPIC],
        handlers={FlagRaised: never},
        group_id=f"{harness.iso.topic_prefix}flags-only",
        bootstrap_servers=harness.bootstrap,
        publisher=harness.publisher,
        inbox=Inbox(harness.db),
        service="test",
    )
    partitions = [TopicPartition(harness.iso.topic(TOPIC), p) for p in range(3)]
    admin = AIOKafkaAdminClient(bootstrap_servers=harness.bootstrap)
    await admin.start()
    probe = AIOKafkaConsumer(bootstrap_servers=harness.bootstrap)
    await probe.start()

    async def publish_one_per_partition(n: int) -> None:
        for partition, tp in enumerate(partitions):
            event = checkin(n + partition, student=f"s{partition}")
            await harness.send_raw(event.model_dump_json().encode(), partition=tp.partition)

    async def all_committed() -> bool:
        ends = await probe.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(f"{harness.iso.topic_prefix}flags-only")
        return all(committed.get(tp) is not None and committed[tp].offset == ends[tp] for tp in partitions)

    task = asyncio.create_task(consumer.run())
    try:
        await publish_one_per_partition(100)
        await eventually(all_committed, timeout=30)  # never committed before: at once
        await publish_one_per_partition(200)
        await eventually(all_committed, timeout=30)  # within the window, with nothing after it: once quiet
    finally:
        await consumer.stop()
        await asyncio.wait_for(task, 20)
        await probe.stop()
        await admin.close()


def duplicates(harness) -> float:
    labels = {
        "service": "test",
        "topic": harness.iso.topic(TOPIC),
        "type": "checkin.recorded",
        "outcome": "duplicate",
    }
    return REGISTRY.get_sample_value("medsupport_events_consumed_total", labels) or 0.0


async def test_malformed_messages_go_to_the_dead_letter_topic_and_the_consumer_keeps_going(harness):
    bad_payload = checkin(3).model_dump(mode="json")
    bad_payload["data"]["severity"] = "catastrophic"
    await harness.send_raw(b"{not json")
    await harness.send_raw(json.dumps(bad_payload).encode())
    good = checkin(4)
    await harness.publisher.publish(good)
    async with TopicReader(harness.bootstrap, harness.iso.topic(TOPIC) + ".dlq") as dlq:
        await run_until(harness.consumer(), lambda: good.id in harness.handled)
        records = await eventually(lambda: len(dlq.records) >= 2 and dlq.records)
    reasons = [dict(r.headers)["dlq_reason"] for r in records]
    assert reasons == [b"invalid_envelope", b"invalid_payload"]
    assert b"severity" in dict(records[1].headers)["dlq_error"]
    assert records[0].value == b"{not json"
    assert dict(records[1].headers)["dlq_source_topic"] == harness.iso.topic(TOPIC).encode()


async def test_a_handler_that_keeps_failing_is_dead_lettered_after_bounded_retries(harness):
    harness.fail_for = {"poison"}
    poison, good = checkin(5, student="poison"), checkin(6)
    await harness.publisher.publish(poison)
    await harness.publisher.publish(good)
    async with TopicReader(harness.bootstrap, harness.iso.topic(TOPIC) + ".dlq") as dlq:
        await run_until(harness.consumer(), lambda: good.id in harness.handled)
        records = await eventually(lambda: dlq.records)
    headers = dict(records[0].headers)
    assert headers["dlq_reason"] == b"handler_failed"
    assert b"after 3 attempts" in headers["dlq_error"] and b"cannot handle c5" in headers["dlq_error"]
    assert json.loads(records[0].value)["id"] == poison.id
    assert poison.id not in harness.handled


async def test_a_consumer_restarted_mid_stream_resumes_after_the_last_commit_and_misses_nothing(harness):
    events = [checkin(100 + n, student=f"s{n % 5}") for n in range(30)]
    for event in events:
        await harness.publisher.publish(event)
    first = harness.consumer()

    async def stop_after_ten(event, payload):
        await harness.handler(event, payload)
        if len(harness.handled) == 10:
            await first.stop()

    first._handlers["checkin.recorded"] = stop_after_ten
    await run_until(first, lambda: len(harness.handled) >= 10)
    after_first = len(harness.handled)
    assert after_first < len(events)
    await run_until(harness.consumer(), lambda: len(set(harness.handled)) == len(events))
    assert sorted(harness.handled) == sorted(e.id for e in events)  # every event once, none twice
