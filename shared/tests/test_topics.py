"""Topics are created with their dead-letter twins, and a test's (or benchmark's) own are deleted by prefix."""

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from medsupport_shared.kafka import delete_topics_with_prefix, ensure_topics
from medsupport_shared.testing import eventually

pytestmark = pytest.mark.integration


async def _topics(bootstrap):
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def test_only_the_prefixed_topics_are_deleted(infrastructure):
    bootstrap = infrastructure.kafka_bootstrap_servers
    mine, neighbour = f"d{uuid.uuid4().hex[:8]}.", f"d{uuid.uuid4().hex[:8]}."
    await ensure_topics(bootstrap_servers=bootstrap, topics=[f"{mine}a.v1", f"{neighbour}a.v1"], partitions=1)
    assert {f"{mine}a.v1", f"{mine}a.v1.dlq", f"{neighbour}a.v1"} <= await _topics(bootstrap)

    deleted = await delete_topics_with_prefix(bootstrap_servers=bootstrap, prefix=mine)

    assert sorted(deleted) == [f"{mine}a.v1", f"{mine}a.v1.dlq"]
    await eventually(lambda: _gone(bootstrap, mine))
    assert f"{neighbour}a.v1" in await _topics(bootstrap)
    await delete_topics_with_prefix(bootstrap_servers=bootstrap, prefix=neighbour)
    with pytest.raises(ValueError, match="empty"):
        await delete_topics_with_prefix(bootstrap_servers=bootstrap, prefix="")


async def _gone(bootstrap, prefix):
    return not any(t.startswith(prefix) for t in await _topics(bootstrap))
