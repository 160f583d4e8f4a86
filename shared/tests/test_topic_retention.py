"""Topics (and their dead-letter twins) are created with a short, explicit retention: records with personal
data are deleted once older than KAFKA_TOPIC_RETENTION_HOURS (on the real broker)."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from medsupport_shared.event_types import WELLBEING_TOPIC
from medsupport_shared.testing import eventually, running

from .demo_service import DemoSettings, create_app

pytestmark = pytest.mark.integration


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [(_, _, _, _, entries)] = response.resources
        return {entry[0]: entry[1] for entry in entries}
    finally:
        await admin.close()


async def test_the_service_creates_its_topics_with_the_configured_retention(isolation):
    settings = isolation.settings(DemoSettings, kafka_topic_retention_hours=36)
    topic = isolation.topic(WELLBEING_TOPIC)
    async with running(create_app(settings)):
        for name in (topic, f"{topic}.dlq"):
            configs = await eventually(lambda n=name: _configs(settings.kafka_bootstrap_servers, n), timeout=30)
            assert configs["retention.ms"] == str(36 * 3600 * 1000)
            assert configs["cleanup.policy"] == "delete"
            assert configs["segment.ms"] == str(24 * 3600 * 1000)  # expired records go within a day
