"""Consumers accept each event type only from its owning topic and source: forgeries are dead-lettered
(on the real broker)."""

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from medsupport_shared.event_types import (
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    WELLBEING_TOPIC,
    FlagResolved,
    StudentErasureRequested,
)
from medsupport_shared.events import new_event
from medsupport_shared.inbox import Inbox
from medsupport_shared.kafka import EventConsumer, EventPublisher, ensure_topics
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import TopicReader

from .test_consumer import run_until

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)


def resolved(flag: str, source: str = "/services/wellbeing"):
    return new_event(FlagResolved(flag_id=flag, student_id="s1", resolved_at=NOW), source=source)


def erasure(source: str):
    return new_event(StudentErasureRequested(student_id="s1", requested_at=NOW, requested_by="x"), source=source)


async def test_forged_flag_resolutions_and_erasures_are_dead_lettered_with_the_reason(isolation):
    bootstrap = isolation.infra.kafka_bootstrap_servers
    topics = [WELLBEING_TOPIC, MENTORSHIP_TOPIC, PLATFORM_TOPIC]
    await ensure_topics(bootstrap_servers=bootstrap, topics=[isolation.topic(t) for t in topics])
    client = create_client(isolation.infra.mongo_url)
    db = client[f"trust_{isolation.run_id}"]
    isolation.databases.append(db.name)
    publisher = EventPublisher(bootstrap_servers=bootstrap, topic_prefix=isolation.topic_prefix, service="test")
    handled: list[str] = []

    async def record(event, payload) -> None:
        handled.append(event.id)

    consumer = EventConsumer(
        name="trust",
        topics=topics,
        handlers={"flag.resolved": record, "student.erasure.requested": record},
        group_id=f"{isolation.topic_prefix}trust",
        bootstrap_servers=bootstrap,
        publisher=publisher,
        inbox=Inbox(db),
        service="test",
    )
    forged = {
        "wrong_topic": (MENTORSHIP_TOPIC, resolved("f-forged-topic")),  # mentorship may write only its topic
        "wrong_source": (WELLBEING_TOPIC, resolved("f-forged-source", source="/services/mentorship")),
        "erasure_wrong_source": (PLATFORM_TOPIC, erasure("/services/feedback")),
        "erasure_wrong_topic": (MENTORSHIP_TOPIC, erasure("/services/wellbeing")),
    }
    genuine = [resolved("f-real"), erasure("/services/wellbeing")]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for topic, event in forged.values():
            await producer.send_and_wait(isolation.topic(topic), event.model_dump_json().encode(), key=b"s1")
    finally:
        await producer.stop()
    for event in genuine:
        await publisher.publish(event)
    async with (
        TopicReader(bootstrap, isolation.topic(MENTORSHIP_TOPIC) + ".dlq") as mentorship_dlq,
        TopicReader(bootstrap, isolation.topic(WELLBEING_TOPIC) + ".dlq") as wellbeing_dlq,
        TopicReader(bootstrap, isolation.topic(PLATFORM_TOPIC) + ".dlq") as platform_dlq,
    ):

        def dead_letters() -> list:
            return mentorship_dlq.records + wellbeing_dlq.records + platform_dlq.records

        # the consumer runs until the genuine events are handled and every forgery is dead-lettered
        await run_until(consumer, lambda: all(e.id in handled for e in genuine) and len(dead_letters()) >= 4)
        dead = dead_letters()
    await publisher.stop()
    await client.close()
    assert sorted(handled) == sorted(e.id for e in genuine)
    reasons = {json.loads(r.value)["id"]: dict(r.headers)["dlq_reason"] for r in dead}
    assert reasons == {
        forged["wrong_topic"][1].id: b"untrusted_topic",
        forged["wrong_source"][1].id: b"untrusted_source",
        forged["erasure_wrong_source"][1].id: b"untrusted_source",
        forged["erasure_wrong_topic"][1].id: b"untrusted_topic",
    }
    errors = [dict(r.headers)["dlq_error"] for r in dead]
    assert any(b"accepted only from /services/wellbeing" in e for e in errors)
