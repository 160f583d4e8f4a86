"""Staff reads of wellbeing-flag alerts (the alert, an inbox page showing one) are audited in notifications,
for the wellbeing lead to read, and kept AUDIT_RETENTION_DAYS."""

from datetime import timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually, running
from notifications.retention import expire_old

from .conftest import ADMIN, LEAD, wait_for_consumer

pytestmark = pytest.mark.integration
C1 = auth("c1", "counsellor")


async def _reads(client, query=""):
    response = await client.get(f"/v1/alert-reads{query}", headers=LEAD)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_reads_of_flag_alerts_are_recorded_for_the_wellbeing_lead(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="elevated")
        (alert,) = await eventually(lambda: _inbox(client), timeout=30)
        (first,) = await _reads(client)  # the inbox page that showed it (earlier, empty pages read nothing)
        assert (first["reader_id"], first["via"], first["purpose"]) == ("c1", "inbox", None)
        assert (await client.get("/v1/inbox?purpose=triage", headers=C1)).status_code == 200
        shown = await client.get(f"/v1/alerts/{alert['id']}?purpose=follow-up", headers=C1)
        assert shown.status_code == 200
        assert (await client.get(f"/v1/alerts/{alert['id']}", headers=LEAD)).status_code == 200
        assert (await client.get(f"/v1/alerts/{alert['id']}", headers=ADMIN)).status_code == 404  # not a read

        reads = await _reads(client, f"?alert_id={alert['id']}")
        assert sorted((r["reader_id"], r["reader_roles"], r["via"], r["purpose"] or "") for r in reads) == [
            ("c1", ["counsellor"], "alert", "follow-up"),
            ("c1", ["counsellor"], "inbox", ""),
            ("c1", ["counsellor"], "inbox", "triage"),
            ("lead-1", ["wellbeing_lead"], "alert", ""),
        ]
        assert all(r["alert_ids"] == [alert["id"]] for r in reads) and "s1" not in str(reads)
        assert await _reads(client, "?alert_id=another") == []
        for other in (C1, ADMIN, auth("o1", "ops")):
            assert (await client.get("/v1/alert-reads", headers=other)).status_code == 403


async def test_reads_of_other_alerts_are_not_recorded_and_old_reads_expire(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        assert (await client.get("/v1/inbox", headers=C1)).status_code == 200  # shows no flag alert
        assert await _reads(client) == []
        repo = app.state.services.repo
        old = utcnow() - timedelta(days=app.state.services.settings.audit_retention_days + 1)
        recent = utcnow() - timedelta(days=30)
        for read_id, at in (("old", old), ("recent", recent)):
            await repo.alert_reads.insert_one(
                {"_id": read_id, "at": at, "reader_id": "c1", "reader_roles": ["counsellor"], "alert_ids": ["a"],
                 "via": "alert", "purpose": None}
            )  # fmt: skip
        assert (await expire_old(ctx=app.state.services))["alert_reads"] == 1
        assert [r["id"] for r in await _reads(client)] == ["recent"]


async def _inbox(client):
    return (await client.get("/v1/inbox", headers=C1)).json()["items"]
