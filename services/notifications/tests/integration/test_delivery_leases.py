"""Leases on real FerretDB: one worker per attempt, and a lease whose claimer lost the database before
marking the delivery `sending` is taken over once it has expired (else that delivery would never go out)."""

from datetime import timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import running

pytestmark = pytest.mark.integration


def pending(delivery_id: str) -> dict:
    now = utcnow()
    return {
        "_id": delivery_id,
        "alert_id": "a1",
        "recipient_id": "c1",
        "channel": "webhook",
        "created_at": now,
        "attempt_count": 0,
        "attempts": [],
        "severity": "urgent",
        "status": "pending",
        "next_attempt_at": now + timedelta(hours=1),  # not due: the service's own sweep leaves it to us
    }


async def test_one_claim_per_attempt_and_an_expired_orphan_lease_is_taken_over(stack):
    app = stack.app()
    async with running(app):
        repo = app.state.services.repo
        now = utcnow()
        await repo.insert_deliveries(deliveries=[pending("d-live"), pending("d-orphan")])
        live = await repo.deliveries.find_one({"_id": "d-live"})
        assert await repo.claim_delivery(delivery=live, lease_until=now + timedelta(seconds=15), now=now)
        assert not await repo.claim_delivery(delivery=live, lease_until=now + timedelta(seconds=15), now=now)

        # a claimer inserted its lease, then lost the database before marking the delivery sending
        await repo.leases.insert_one({"_id": "d-orphan:0", "delivery_id": "d-orphan", "until": now})
        orphan = await repo.deliveries.find_one({"_id": "d-orphan"})
        early = now - timedelta(seconds=1)
        assert not await repo.claim_delivery(delivery=orphan, lease_until=now + timedelta(seconds=15), now=early)
        later = now + timedelta(seconds=1)
        assert await repo.claim_delivery(delivery=orphan, lease_until=later + timedelta(seconds=15), now=later)
        assert (await repo.deliveries.find_one({"_id": "d-orphan"}))["status"] == "sending"
        assert not await repo.claim_delivery(delivery=orphan, lease_until=later + timedelta(seconds=15), now=later)
