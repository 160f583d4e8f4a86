"""A concern left untriaged past CONCERN_TRIAGE_HOURS is escalated once (concern.triage_overdue), also
across a restart; a triaged one is not; an anonymous one's event keeps the hour-rounded times."""

import pytest

from medsupport_shared.testing import auth, eventually

from .conftest import feedback_settings

pytestmark = pytest.mark.integration

OFFICER = auth("o1", "concerns_officer")
CONCERN = {"category": "bias", "description": "d", "when": "w", "where": "x"}


async def sweeps(stack, by):
    start = stack.ctx.sweeps.get("concern-triage", 0)
    await eventually(lambda: stack.ctx.sweeps.get("concern-triage", 0) >= start + by, timeout=20)


async def test_untriaged_concerns_escalate_once(make_stack, isolation):
    settings = feedback_settings(isolation, concern_triage_hours=0.0005)  # 1.8 s
    async with make_stack(settings) as stack:
        named = (
            await stack.client.post("/v1/concerns", json={**CONCERN, "anonymous": False}, headers=auth("s1", "student"))
        ).json()
        triaged = (
            await stack.client.post("/v1/concerns", json={**CONCERN, "anonymous": False}, headers=auth("s2", "student"))
        ).json()
        anonymous = (await stack.client.post("/v1/concerns", json={**CONCERN, "anonymous": True})).json()
        moved = await stack.client.patch(
            f"/v1/concerns/{triaged['id']}", json={"status": "under_review"}, headers=OFFICER
        )
        assert moved.status_code == 200, moved.text
        (event,) = await stack.reader.wait_for(
            lambda e: e.type == "concern.triage_overdue" and e.subject == named["id"]
        )
        assert set(event.data) == {"concern_id", "category", "anonymous", "due_at"}
        (anon,) = await stack.reader.wait_for(
            lambda e: e.type == "concern.triage_overdue" and e.subject == anonymous["id"]
        )
        assert anon.time.minute == anon.time.second == anon.time.microsecond == 0
        assert anon.data["due_at"].endswith(":00:00Z") and anon.data["anonymous"] is True
    async with make_stack(settings) as restarted:
        await sweeps(restarted, 5)
        await restarted.reader.wait_for(lambda e: e.type == "concern.raised", count=3)
        overdue = [e.subject for e in restarted.events("concern.triage_overdue")]
        assert sorted(overdue) == sorted([named["id"], anonymous["id"]])
