"""A stored delivery that no longer fits its model (a hand edit) is skipped by the delivery sweep, logged and
counted, while the due deliveries around it are still found."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.events import utcnow
from medsupport_shared.mongo import create_client
from notifications.repository import NotificationsRepository
from notifications.settings import NotificationsSettings

pytestmark = pytest.mark.integration


def skipped():
    return REGISTRY.get_sample_value("medsupport_invalid_documents_total", {"collection": "deliveries"}) or 0


async def test_the_sweep_skips_a_hand_edited_delivery_and_finds_the_others(isolation):
    settings = isolation.settings(NotificationsSettings)
    client = create_client(settings.mongo_url)
    try:
        repo = NotificationsRepository(client[settings.mongo_db])
        past = utcnow() - timedelta(seconds=1)
        good = {
            "_id": "a1:inapp",
            "alert_id": "a1",
            "recipient_id": "c1",
            "channel": "inapp",
            "created_at": past,
            "attempt_count": 0,
            "attempts": [],
            "severity": "urgent",
            "status": "pending",
            "next_attempt_at": past,
            "reason": None,
        }
        hand_edited = {**good, "_id": "a2:inapp", "attempt_count": "twice"}
        await repo.insert_deliveries(deliveries=[good])
        await repo.deliveries.insert_one(hand_edited)
        before = skipped()
        assert [d.id for d in await repo.due_deliveries(now=utcnow())] == ["a1:inapp"]
        assert skipped() == before + 1
    finally:
        await client.close()
