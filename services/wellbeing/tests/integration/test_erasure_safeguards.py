"""Erasure cannot be a one-call accident: staff requests wait and can be cancelled, an open urgent flag
is kept for its follow-up until a counsellor resolves it, and staff reads stay audited under a pseudonym."""

import pytest

from medsupport_shared.erasure import publish_due_erasures
from medsupport_shared.testing import TopicReader, auth, eventually, running
from wellbeing.app import create_app
from wellbeing.settings import WellbeingSettings

from .test_privacy import checkin

pytestmark = pytest.mark.integration
ADMIN, LEAD, COUNSELLOR = auth("admin-1", "admin"), auth("lead-1", "wellbeing_lead"), auth("c1", "counsellor")
URGENT = (0, 0, 0, 0, 0, 0, 0, 0, 1)


@pytest.fixture
def make_wellbeing(isolation):
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def make(**overrides):
        settings = isolation.settings(
            WellbeingSettings, flag_sweep_interval_seconds=0.2, erasure_sweep_interval_seconds=0.2, **overrides
        )
        app = create_app(settings)
        async with (
            running(app) as client,
            TopicReader(settings.kafka_bootstrap_servers, isolation.topic("platform.events.v1")) as platform,
        ):
            yield app, client, platform

    return make


async def test_a_staff_erasure_waits_and_another_admin_or_the_student_can_cancel_it(make_wellbeing):
    async with make_wellbeing() as (app, client, platform):
        await checkin(client, "s1")
        asked = await client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=ADMIN)
        assert asked.status_code == 202 and asked.json()["status"] == "scheduled"
        assert asked.json()["due_at"] > asked.json()["requested_at"]
        listed = await client.get("/v1/erasure-requests", headers=auth("admin-2", "admin"))
        assert [r["id"] for r in listed.json()["items"]] == [asked.json()["id"]]
        assert (await client.get("/v1/erasure-requests", headers=auth("s1", "student"))).status_code == 403
        request_id = asked.json()["id"]
        other = await client.post(f"/v1/erasure-requests/{request_id}/cancel", headers=auth("s2", "student"))
        assert other.status_code == 404
        cancelled = await client.post(f"/v1/erasure-requests/{request_id}/cancel", headers=auth("s1", "student"))
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        again = await client.post(f"/v1/erasure-requests/{request_id}/cancel", headers=ADMIN)
        assert again.status_code == 409
        assert await publish_due_erasures(app.state.runtime) == 0
        assert await app.state.services.repo.checkins.count_documents({"student_id": "s1"}) == 1
        assert not [e for e in platform.events if e.type == "student.erasure.requested"]


async def test_a_staff_erasure_is_published_when_its_delay_has_passed(make_wellbeing):
    async with make_wellbeing(erasure_delay_days=0) as (app, client, platform):
        await checkin(client, "s1")
        asked = await client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=ADMIN)
        assert asked.json()["status"] == "scheduled"
        await platform.wait_for(lambda e: e.type == "student.erasure.requested" and e.data["student_id"] == "s1")
        repo = app.state.services.repo
        await eventually(lambda: _no_checkins(repo, "s1"), timeout=30, message="erased after the delay")


async def _no_checkins(repo, student_id):
    return await repo.checkins.count_documents({"student_id": student_id}) == 0


async def test_an_open_urgent_flag_outlives_erasure_until_resolved_and_reads_stay_pseudonymised(make_wellbeing):
    async with make_wellbeing() as (app, client, _):
        repo = app.state.services.repo
        await checkin(client, "s1", instrument="phq9", answers=URGENT)
        await eventually(lambda: _open_flag(repo, "s1"), timeout=30, message="urgent flag raised")
        await client.get("/v1/students/s1/checkins?purpose=urgent%20follow-up", headers=COUNSELLOR)
        erase = await client.post("/v1/erasure-requests", json={"student_id": "s1"}, headers=auth("s1", "student"))
        assert erase.json()["status"] == "accepted"
        await eventually(lambda: _no_checkins(repo, "s1"), timeout=30, message="erased")
        queue = (await client.get("/v1/flags", headers=COUNSELLOR)).json()["items"]
        (flag,) = [f for f in queue if f["student_id"] == "s1"]  # still in the queue: someone must call
        resolved = await client.post(
            f"/v1/flags/{flag['id']}/resolve", json={"outcome": "contacted"}, headers=COUNSELLOR
        )
        assert resolved.status_code == 200, resolved.text
        await eventually(lambda: _no_flag(repo, "s1"), timeout=30, message="kept flag erased once resolved")
        assert await repo.audit.count_documents({"student_id": "s1", "action": {"$ne": "erased"}}) == 0
        trail = (await client.get("/v1/audit?student_id=s1", headers=LEAD)).json()["items"]
        reads = [e for e in trail if e["action"] != "erased"]
        assert {e["action"] for e in reads} >= {"read_checkins", "list_flags"}
        assert all(e["student_id"] is None and e["student_ref"] for e in reads)
        assert "s1" not in repr(await repo.audit.find({"action": {"$ne": "erased"}}).to_list(None))


async def _open_flag(repo, student_id):
    return await repo.flags.count_documents({"student_id": student_id, "status": "open"}) == 1


async def _no_flag(repo, student_id):
    return await repo.flags.count_documents({"student_id": student_id}) == 0
