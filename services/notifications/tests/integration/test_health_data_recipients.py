"""Health data goes only to health-data roles: who may grant them (audited), which rules flags may follow,
what admin and ops may read, and that roles from tokens never make anyone a recipient."""

import pytest

from medsupport_shared.event_types import ConcernRaised
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import ADMIN, DIRECTORY, LEAD, wait_for_consumer

pytestmark = pytest.mark.integration
OFFICER = auth("co-1", "concerns_officer")


async def test_granting_a_health_role_needs_the_wellbeing_lead_and_is_recorded(stack):
    async with running(stack.app()) as client:
        body = {
            "roles": ["counsellor"],
            "email": "x@med.example.edu",
            "webhook_url": "https://hooks.example.edu/t/s3cret",
        }
        refused = await client.put("/v1/staff/x", json=body, headers=ADMIN)
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/v1/staff/x", headers=ADMIN)).status_code == 404
        assert (await client.put("/v1/staff/x", json=body, headers=LEAD)).status_code == 200
        redirect = {**body, "webhook_url": "https://attacker.example/hook"}
        assert (await client.put("/v1/staff/x", json=redirect, headers=ADMIN)).status_code == 403
        # revoking needs the lead too, else an admin could demote every counsellor and nobody restore them
        assert (await client.put("/v1/staff/x", json={**body, "roles": ["ops"]}, headers=ADMIN)).status_code == 403
        assert (await client.put("/v1/staff/w", json=body, headers=LEAD)).status_code == 200
        assert (await client.put("/v1/staff/x", json={**body, "roles": ["ops"]}, headers=DIRECTORY)).status_code == 200
        assert (await client.put("/v1/staff/y", json={**body, "roles": ["ops"]}, headers=ADMIN)).status_code == 200
        assert (await client.put("/v1/staff/z", json={**body, "roles": ["admin"]}, headers=LEAD)).status_code == 403

        assert (await client.get("/v1/role-grants", headers=ADMIN)).status_code == 403
        grants = (await client.get("/v1/role-grants", headers=LEAD)).json()["items"]
        assert [(g["by"], g["staff_id"], g["granted"], g["revoked"]) for g in grants] == [
            ("lead-1", "x", [], ["counsellor"]),
            ("lead-1", "w", ["counsellor"], []),
            ("lead-1", "x", ["counsellor"], []),
        ]

        # L5: webhook URLs (bearer secrets) in full to admins and the person themselves only
        listed = {s["id"]: s for s in (await client.get("/v1/staff", headers=auth("o1", "ops"))).json()["items"]}
        assert listed["x"]["webhook_url"] == "https://hooks.example.edu/***"
        assert "s3cret" not in (await client.get("/v1/staff/x", headers=LEAD)).text
        assert "s3cret" in (await client.get("/v1/staff/x", headers=ADMIN)).text
        assert "s3cret" in (await client.get("/v1/staff/x", headers=auth("x", "ops"))).text


async def test_flag_rules_may_target_only_counselling_and_on_call_is_for_staff(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)
        rule = {"id": "flags-to-me", "event_types": ["flag.raised"], "channels": ["inapp"]}
        for target in ({"kind": "role", "value": "admin"}, {"kind": "staff", "value": "admin-1"}):
            refused = await client.post("/v1/routes", json={**rule, "target": target}, headers=ADMIN)
            assert refused.status_code == 422 and "may target only" in refused.text, target
        allowed = await client.post(
            "/v1/routes", json={**rule, "target": {"kind": "staff", "value": "c2"}}, headers=ADMIN
        )
        assert allowed.status_code == 201
        assert (await client.get("/v1/rotas/counselling/on-call", headers=auth("s1", "student"))).status_code == 403
        assert (await client.get("/v1/rotas/counselling/on-call", headers=auth("f1", "faculty"))).status_code == 200


async def test_roles_from_a_token_never_make_someone_a_recipient_of_flag_alerts(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        mine = await client.put("/v1/me/preferences", json={}, headers=auth("u1", "counsellor", email="u1@x.edu"))
        assert mine.status_code == 200
        repo = app.state.services.repo
        assert (await repo.people.find_one({"_id": "u1"}))["roles"] == []
        await repo.people.insert_one({"_id": "u2", "kind": "user", "roles": ["counsellor"], "email": "u2@x.edu"})
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="elevated")  # to every counsellor
        await eventually(lambda: _inbox(client, "c2"), timeout=30)
        await eventually(lambda: _inbox(client, "c1"), timeout=30)
        assert await repo.alerts.count_documents({"recipient_id": {"$in": ["u1", "u2"]}}) == 0


async def test_concern_alerts_hide_the_reporter_from_anyone_but_the_officers(stack):
    app = stack.app()
    async with running(app) as client, stack.reader() as reader:
        await stack.setup_staff(client)
        officer = {"roles": ["concerns_officer"], "email": "co@med.example.edu"}
        assert (await client.put("/v1/staff/co-1", json=officer, headers=ADMIN)).status_code == 200
        also_admin = {
            "id": "concern-admin",
            "event_types": ["concern.raised"],
            "target": {"kind": "role", "value": "admin"},
            "channels": ["inapp"],
        }
        assert (await client.post("/v1/routes", json=also_admin, headers=ADMIN)).status_code == 201
        await wait_for_consumer(app)
        await stack.publisher.publish(
            new_event(
                ConcernRaised(
                    concern_id="k1", category="safety", anonymous=False, reporter_id="s-reporter", reported_at=utcnow()
                ),
                source="/services/feedback",
            )
        )
        (for_officer,) = await eventually(lambda: _inbox(client, "co-1", "concerns_officer"), timeout=30)
        (for_admin,) = await eventually(lambda: _inbox(client, "admin-1", "admin"), timeout=30)
        assert for_officer["subject_id"] == "s-reporter"
        assert for_admin["subject_id"] == for_admin["id"] and "s-reporter" not in str(for_admin)
        for other in (ADMIN, auth("o1", "ops"), LEAD):
            assert (await client.get(f"/v1/alerts/{for_officer['id']}", headers=other)).status_code == 404
        created = await reader.wait_for(lambda e: e.type == "alert.created", count=2)
        assert all("subject_id" not in e.data or e.data["subject_id"] is None for e in created)
        assert all(e.data.get("source_event_type") is None and e.subject == e.data["alert_id"] for e in created)


async def _inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *(roles or ("counsellor",))))).json()["items"]


async def test_a_bulk_staff_import_follows_the_same_grant_rules(stack):
    async with running(stack.app()) as client:
        items = [
            {"id": "c-new", "roles": ["counsellor"], "email": "c-new@med.example.edu"},
            {"id": "ops-new", "roles": ["ops"], "email": "ops-new@med.example.edu"},
        ]
        assert (await client.put("/v1/staff", json={"items": items}, headers=ADMIN)).status_code == 403
        assert (await client.put("/v1/staff", json={"items": items}, headers=LEAD)).status_code == 403
        both = auth("lead-1", "wellbeing_lead", "admin")
        dry = await client.put("/v1/staff", params={"dry_run": "true"}, json={"items": items}, headers=both)
        assert dry.status_code == 200 and (await client.get("/v1/role-grants", headers=LEAD)).json()["items"] == []
        assert (await client.put("/v1/staff", json={"items": items}, headers=both)).status_code == 200
        grants = (await client.get("/v1/role-grants", headers=LEAD)).json()["items"]
        assert [(g["staff_id"], g["granted"]) for g in grants] == [("c-new", ["counsellor"])]
