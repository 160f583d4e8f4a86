"""What is written is read back through the same model, and a stored document that still fails its model
(an older version's rule, a hand edit) is skipped: lists answer, and other events are still routed."""

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration
C1 = auth("c1", "counsellor")


def skipped(collection):
    return REGISTRY.get_sample_value("medsupport_invalid_documents_total", {"collection": collection}) or 0


async def test_path_ids_and_bodies_that_could_not_be_read_back_are_422(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)
        rule = (await client.get("/v1/routes", headers=ADMIN)).json()["items"][0]
        for bad_id in ("UPPER", "%C3%A9t%C3%A9", "-dash"):
            assert (await client.put(f"/v1/routes/{bad_id}", json=rule, headers=ADMIN)).status_code == 422, bad_id
        staff = {"roles": ["ops"], "email": "x@med.example.edu"}
        for bad_id in ("%C3%A9t%C3%A9", "has%20space", "-x", "x" * 200):
            assert (await client.put(f"/v1/staff/{bad_id}", json=staff, headers=ADMIN)).status_code == 422, bad_id
        rota = {"lead_id": "lead-1", "shifts": []}
        assert (await client.put("/v1/rotas/Night%20Team", json=rota, headers=ADMIN)).status_code == 422
        # a URL that normalisation makes longer than a URL may be: refused now rather than unreadable later
        long_url = {**staff, "webhook_url": "https://hooks.example.edu/" + "é" * 1000}
        refused = await client.put("/v1/staff/x1", json=long_url, headers=ADMIN)
        assert refused.status_code == 422 and "é" not in refused.text
        assert (await client.get("/v1/staff", headers=ADMIN)).status_code == 200
        assert (await client.get("/v1/routes", headers=ADMIN)).status_code == 200


async def test_bad_stored_documents_are_skipped_and_urgent_flags_are_still_routed(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        repo = app.state.services.repo
        before = skipped("routes"), skipped("people")
        await repo.routes.insert_one({"_id": "LEGACY Rule", "event_types": ["flag.raised"], "channels": []})
        await repo.people.insert_one({"_id": "bad person", "kind": "staff", "roles": [], "email": "nope"})
        await repo.people.insert_one(
            {
                "_id": "x2",
                "kind": "staff",
                "roles": ["ops"],
                "email": "x2@med.example.edu",
                "webhook_url": "https://hooks.example.edu/" + "%C3%A9" * 500,
            }
        )

        rules = await client.get("/v1/routes", headers=ADMIN)
        assert rules.status_code == 200 and "wellbeing-urgent" in [r["id"] for r in rules.json()["items"]]
        assert "LEGACY Rule" not in [r["id"] for r in rules.json()["items"]]
        staff = await client.get("/v1/staff", headers=ADMIN)
        assert staff.status_code == 200
        assert {s["id"] for s in staff.json()["items"]} == {"admin-1", "c1", "c2", "lead-1"}
        assert (await client.get("/v1/staff/x2", headers=ADMIN)).status_code == 404
        await repo.people.insert_one({"_id": "junk", "kind": "staff", "roles": 5, "email": "j@med.example.edu"})
        rule = {
            "id": "r-new",
            "event_types": ["feedback.overdue"],
            "target": {"kind": "assessor"},
            "channels": ["inapp"],
        }
        assert (await client.post("/v1/routes", json=rule, headers=ADMIN)).status_code == 201
        repaired = {"roles": ["ops"], "email": "j@med.example.edu"}
        assert (await client.put("/v1/staff/junk", json=repaired, headers=ADMIN)).status_code == 200

        await wait_for_consumer(app)
        await stack.flag(student="s1")
        (alert,) = await eventually(lambda: inbox(client), timeout=30)
        assert (alert["rule_id"], alert["subject_id"]) == ("wellbeing-urgent", "s1")
        hand_edited = {**await repo.alerts.find_one({"_id": alert["id"]}), "_id": "hand-edited", "status": 7}
        await repo.alerts.insert_one(hand_edited)
        assert [a["id"] for a in await inbox(client)] == [alert["id"]]  # the inbox answers without it
        assert skipped("routes") > before[0] and skipped("people") >= before[1] + 2 and skipped("alerts") >= 1


async def test_an_unreadable_rota_is_a_404_and_urgent_flags_fall_back_to_the_counsellors(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await app.state.services.repo.rotas.update_one({"_id": "counselling"}, {"$set": {"shifts": "garbled"}})
        assert (await client.get("/v1/rotas/counselling", headers=ADMIN)).status_code == 404
        assert (await client.get("/v1/rotas/counselling/on-call", headers=C1)).status_code == 404
        await wait_for_consumer(app)
        await stack.flag(student="s1")
        await eventually(lambda: inbox(client), timeout=30)
        await eventually(lambda: inbox(client, "c2"), timeout=30)


async def inbox(client, who="c1"):
    return (await client.get("/v1/inbox", headers=auth(who, "counsellor"))).json()["items"]


async def test_an_alert_that_cannot_be_escalated_does_not_hold_up_the_others(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await stack.short_escalation(client, minutes=(0.02, 60))
        broken = {"_id": "broken", "status": "open", "recipient_id": "c2", "version": 1}
        await app.state.services.repo.alerts.insert_one({**broken, "escalation": {"next_at": utcnow(), "steps": "x"}})
        await wait_for_consumer(app)
        await stack.flag(student="s1")
        (escalated,) = await eventually(lambda: inbox(client, "lead-1"), timeout=30)
        assert escalated["title"].startswith("Escalated") and escalated["subject_id"] == "s1"
        assert skipped("alerts") >= 1
