"""The wellbeing lead's time-to-acknowledge report, over real alerts acknowledged through the API."""

from datetime import timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import LEAD, wait_for_consumer

pytestmark = pytest.mark.integration
C1 = auth("c1", "counsellor")


async def _first_alert(client):
    return (await client.get("/v1/inbox", headers=C1)).json()["items"] or None


async def test_the_lead_sees_per_week_counts_and_times_of_acknowledgement(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag(student="s1", flag_id="f1")
        (alert,) = await eventually(lambda: _first_alert(client))
        assert (await client.post(f"/v1/alerts/{alert['id']}/ack", headers=C1)).status_code == 200
        last_week = utcnow() - timedelta(weeks=1)
        await app.state.services.repo.alerts.insert_many(
            [  # an unacknowledged chain of last week and its escalation step, which is not counted again
                {"_id": "old-0", "level": 0, "severity": "urgent", "status": "open", "created_at": last_week},
                {"_id": "old-1", "level": 1, "severity": "urgent", "status": "open", "created_at": last_week},
            ]
        )

        reply = await client.get("/v1/alerts/acknowledgement-times?weeks=2", headers=LEAD)
        assert reply.status_code == 200
        rows = {(r["week_start"], r["severity"]): r for r in reply.json()["items"]}
        assert len(rows) == 4
        (previous, current) = sorted({week for week, _ in rows})
        this_week = rows[(current, "urgent")]
        assert (this_week["alerts"], this_week["acknowledged"], this_week["unacknowledged"]) == (1, 1, 0)
        assert 0 <= this_week["median_seconds"] == this_week["p90_seconds"] < 120
        before = rows[(previous, "urgent")]
        assert (before["alerts"], before["acknowledged"], before["unacknowledged"]) == (1, 0, 1)
        assert before["median_seconds"] is None and rows[(current, "elevated")]["alerts"] == 0

        assert (await client.get("/v1/alerts/acknowledgement-times", headers=C1)).status_code == 403
        bad = await client.get("/v1/alerts/acknowledgement-times?weeks=0", headers=LEAD)
        assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
