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
    expected = {"retention.ms": str(36 * 3600 * 1000), "cleanup.policy": "delete", "segment.ms": str(24 * 3600 * 1000)}

    async def configured(name: str) -> dict[str, str]:
        configs = await _configs(settings.kafka_bootstrap_servers, name)
        return {k: configs.get(k, "") for k in expected}

    async with running(create_app(settings)):  # its consumer may auto-create the topic first: then it is altered
        for name in (topic, f"{topic}.dlq"):
            found = await eventually(lambda n=name: _matches(configured(n), expected), timeout=30)
            assert found == expected  # segments roll daily, so expired records go within a day


async def _matches(configs, expected: dict[str, str]) -> dict[str, str] | None:
    current = await configs
    return current if current == expected else None
