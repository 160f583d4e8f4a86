"""Consumers accept each event type only from its owning topic and source: forgeries are dead-lettered
(on the real broker)."""

import json
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaProducer

from medsupport_shared.event_types import (
    FEEDBACK_TOPIC,
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    WELLBEING_TOPIC,
    FeedbackSubmitted,
    FlagRaised,
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
        handlers={FlagResolved: record, StudentErasureRequested: record},
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


async def test_a_forged_event_of_a_type_this_consumer_does_not_handle_is_dead_lettered_not_ignored(isolation):
    """Notifications reads flags in a lane of their own, so its consumer of feedback's topic has no
    ``flag.raised`` handler: a ``flag.raised`` written there is still a forgery and leaves a dead letter."""
    bootstrap = isolation.infra.kafka_bootstrap_servers
    await ensure_topics(bootstrap_servers=bootstrap, topics=[isolation.topic(FEEDBACK_TOPIC)])
    client = create_client(isolation.infra.mongo_url)
    db = client[f"trust_{isolation.run_id}"]
    isolation.databases.append(db.name)
    publisher = EventPublisher(bootstrap_servers=bootstrap, topic_prefix=isolation.topic_prefix, service="test")
    handled: list[str] = []

    async def record(event, payload) -> None:
        handled.append(event.id)

    consumer = EventConsumer(
        name="feedback-only",
        topics=[FEEDBACK_TOPIC],
        handlers={FeedbackSubmitted: record},
        group_id=f"{isolation.topic_prefix}feedback-only",
        bootstrap_servers=bootstrap,
        publisher=publisher,
        inbox=Inbox(db),
        service="test",
    )
    flag = FlagRaised(
        flag_id="f-forged", student_id="s1", severity="urgent", reasons=["phq9_item9_positive"], instrument="phq9",
        raised_at=NOW,
    )  # fmt: skip
    forged = new_event(flag, source="/services/wellbeing")
    genuine = new_event(
        FeedbackSubmitted(
            feedback_id="fb1", student_id="s1", author_id="a1", kind="written", context="ward", submitted_at=NOW
        ),
        source="/services/feedback",
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(isolation.topic(FEEDBACK_TOPIC), forged.model_dump_json().encode(), key=b"s1")
    finally:
        await producer.stop()
    await publisher.publish(genuine)
    async with TopicReader(bootstrap, isolation.topic(FEEDBACK_TOPIC) + ".dlq") as dlq:
        await run_until(consumer, lambda: genuine.id in handled and len(dlq.records) >= 1)
        dead = dlq.records
    await publisher.stop()
    await client.close()
    assert handled == [genuine.id]
    assert [(json.loads(r.value)["id"], dict(r.headers)["dlq_reason"]) for r in dead] == [
        (forged.id, b"untrusted_topic")
    ]
