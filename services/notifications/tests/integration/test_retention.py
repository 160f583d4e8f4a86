"""Retention (a sweep, since FerretDB has no TTL indexes): old closed and routine alerts go with their
deliveries; an open urgent alert stays until a human acts; leftover check-in severities are deleted."""

from datetime import timedelta

import pytest
from pymongo import AsyncMongoClient

from medsupport_shared.events import utcnow
from medsupport_shared.testing import eventually, running
from notifications.retention import expire_old

pytestmark = pytest.mark.integration


def alert(alert_id, *, status, urgent, age_days):
    at = utcnow() - timedelta(days=age_days)
    return {"_id": alert_id, "status": status, "urgent": urgent, "created_at": at, "updated_at": at, "version": 1}


async def test_the_sweep_deletes_what_is_past_retention_and_keeps_open_urgent_alerts(stack):
    app = stack.app()
    client = AsyncMongoClient(stack.settings.mongo_url)
    await client[stack.settings.database_name]["checkins"].insert_one({"_id": "ck-before-start", "severity": "none"})
    await client.close()
    async with running(app):
        repo = app.state.services.repo
        await eventually(lambda: _none_left(repo), timeout=30)  # the service's own first sweep has run
        await repo.alerts.insert_many(
            [
                alert("old-acked", status="acknowledged", urgent=True, age_days=200),
                alert("old-routine", status="open", urgent=False, age_days=200),
                alert("old-open-urgent", status="open", urgent=True, age_days=400),
                alert("recent-acked", status="acknowledged", urgent=True, age_days=10),
            ]
        )
        await repo.deliveries.insert_many(
            [{"_id": "d1", "alert_id": "old-acked"}, {"_id": "d2", "alert_id": "recent-acked"}]
        )
        await repo.leases.insert_one({"_id": "d1:0", "delivery_id": "d1"})
        await repo.checkins.insert_one({"_id": "ck-legacy", "student_id": "s1", "severity": "urgent"})

        await expire_old(ctx=app.state.services)

        kept = sorted(a["_id"] for a in await repo.alerts.find({}).to_list(None))
        assert kept == ["old-open-urgent", "recent-acked"]
        assert [d["_id"] for d in await repo.deliveries.find({}).to_list(None)] == ["d2"]
        assert await repo.leases.count_documents({}) == await repo.checkins.count_documents({}) == 0
        assert await expire_old(ctx=app.state.services) == {
            "alerts": 0,
            "deliveries": 0,
            "leases": 0,
            "checkins": 0,
            "alert_reads": 0,
        }


async def _none_left(repo):
    return await repo.checkins.count_documents({}) == 0
