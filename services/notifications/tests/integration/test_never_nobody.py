"""An alert never goes to nobody: a missing rota or an unstaffed role falls back to staffed roles;
escalation delays count from when the alert became urgent."""

import asyncio
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.event_types import FlagUpdated
from medsupport_shared.testing import auth, eventually, running

from .conftest import LEAD, wait_for_consumer

pytestmark = pytest.mark.integration


async def inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


def fallbacks(rule_id):
    return REGISTRY.get_sample_value("medsupport_notifications_fallback_routes_total", {"rule_id": rule_id}) or 0


async def test_an_urgent_flag_without_a_rota_reaches_the_counsellors(stack):
    app = stack.app()
    async with running(app) as client:
        for staff_id, role in (("c1", "counsellor"), ("c2", "counsellor"), ("lead-1", "wellbeing_lead")):
            body = {"roles": [role], "email": f"{staff_id}@med.example.edu"}
            assert (await client.put(f"/v1/staff/{staff_id}", json=body, headers=LEAD)).status_code == 200
        await wait_for_consumer(app)
        before = fallbacks("wellbeing-urgent")
        await stack.flag(student="s1")  # the urgent rule targets the counselling rota, which nobody set up
        for who in ("c1", "c2"):
            (alert,) = await eventually(lambda who=who: inbox(client, who, "counsellor"))
            assert (alert["subject_id"], alert["severity"]) == ("s1", "urgent")
        await eventually(lambda: len(stack.mailbox.messages) == 2)
        assert sorted(m[0][0] for m in stack.mailbox.messages) == ["c1@med.example.edu", "c2@med.example.edu"]
        assert fallbacks("wellbeing-urgent") == before + 1
        assert await inbox(client, "lead-1", "wellbeing_lead") == []  # the first staffed fallback role only


async def test_an_on_call_person_missing_from_the_directory_hands_over_to_the_lead(stack):
    """A rota written before names were checked (or a person since removed): the team's lead is alerted."""
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        rotas = app.state.services.repo.rotas
        await rotas.update_one({"_id": "counselling"}, {"$set": {"shifts.0.staff_id": "c-ghost"}})
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="urgent", flag_id="f1")
        alerts = await eventually(lambda: inbox(client, "lead-1", "wellbeing_lead"), timeout=30)
        assert [a["subject_id"] for a in alerts] == ["s1"]
        assert await app.state.services.repo.alerts.count_documents({"recipient_id": "c-ghost"}) == 0


async def test_escalation_counts_from_the_upgrade_to_urgent_not_from_the_first_alert(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await stack.short_escalation(client, minutes=(0.02, 0.04))
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="elevated", flag_id="f1")
        (elevated,) = await eventually(lambda: inbox(client, "c1", "counsellor"))
        repo = app.state.services.repo
        await asyncio.sleep(2.0)  # the elevated alert has been open a while (longer than the urgent steps)
        await stack.flag(student="s1", severity="urgent", flag_id="f1", event_type=FlagUpdated)
        upgraded = await eventually(lambda: _escalated_once(repo, elevated["id"]), timeout=20)
        state = upgraded["escalation"]
        assert upgraded["severity"] == "urgent"
        assert state["started_at"] - upgraded["created_at"] >= timedelta(seconds=2)
        assert state["next_at"] - state["started_at"] == timedelta(minutes=0.04)  # not created_at + 0.04 min


async def _escalated_once(repo, alert_id):
    alert = await repo.alerts.find_one({"_id": alert_id})
    return alert if alert and (alert.get("escalation") or {}).get("level") == 1 else None
