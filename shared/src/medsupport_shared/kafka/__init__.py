"""Kafka: an idempotent publisher, a consumer runner with retries, dead-lettering and inbox dedup."""

from medsupport_shared.kafka.consumer import EventConsumer, EventHandler, Handlers, by_event_type
from medsupport_shared.kafka.publisher import EventPublisher, PublishFailed
from medsupport_shared.kafka.topics import TopicRetention, delete_topics_with_prefix, ensure_topics, kafka_answers

__all__ = [
    "EventConsumer",
    "EventHandler",
    "EventPublisher",
    "Handlers",
    "PublishFailed",
    "TopicRetention",
    "by_event_type",
    "delete_topics_with_prefix",
    "ensure_topics",
    "kafka_answers",
]
