"""Nothing an admin does to the rules stops an urgent flag from reaching a human: changes that would leave
urgent flags without a counselling route are refused (409), and a rule set that lacks one anyway (stored by an
older version, a hand edit) is covered at routing time by the safety floor."""

import logging

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.event_types import CheckinReminderDue
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running
from notifications.alerts import route_event
from notifications.safety import SAFETY_FLOOR_CONTACT_ID

from .conftest import ADMIN, Stack, wait_for_consumer

pytestmark = pytest.mark.integration
LEAD = auth("lead-1", "wellbeing_lead")


def floor_routes(via):
    return REGISTRY.get_sample_value("medsupport_notifications_safety_floor_routes_total", {"via": via}) or 0


async def urgent_rule(client):
    rules = (await client.get("/v1/routes", headers=ADMIN)).json()["items"]
    return next(r for r in rules if r["id"] == "wellbeing-urgent")


async def test_changes_that_leave_urgent_flags_without_a_counselling_route_are_409(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)
        urgent = await urgent_rule(client)
        for change in ({"enabled": False}, {"cohorts": ["2027"]}, {"escalation": []}, {"severities": ["elevated"]}):
            refused = await client.put("/v1/routes/wellbeing-urgent", json={**urgent, **change}, headers=ADMIN)
            assert refused.status_code == 409, (change, refused.text)
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert "urgent flag.raised" in refused.json()["detail"] or "urgent flag.updated" in refused.json()["detail"]
        refused = await client.delete("/v1/routes/wellbeing-urgent", headers=ADMIN)
        assert refused.status_code == 409 and "counselling" in refused.json()["detail"]
        assert await urgent_rule(client) == urgent  # nothing changed

        other = {**urgent, "id": "urgent-to-counsellors", "target": {"kind": "role", "value": "counsellor"}}
        assert (await client.post("/v1/routes", json=other, headers=ADMIN)).status_code == 201
        assert (await client.delete("/v1/routes/wellbeing-urgent", headers=ADMIN)).status_code == 204
        assert (await client.delete("/v1/routes/urgent-to-counsellors", headers=ADMIN)).status_code == 409


async def test_an_urgent_flag_no_rule_routes_goes_to_the_on_call_counsellor_once_with_escalation(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        repo = app.state.services.repo
        await repo.routes.delete_many({"event_types": "flag.raised"})  # as an older version could have left it
        await wait_for_consumer(app)
        before = floor_routes("rota")
        event = await stack.flag(student="s1")
        (alert,) = await eventually(lambda: inbox(client, "c1", "counsellor"), timeout=30)
        assert (alert["rule_id"], alert["subject_id"], alert["urgent"]) == ("safety-floor", "s1", True)
        stored = await repo.alerts.find_one({"_id": alert["id"]})
        assert [s["target"] for s in stored["escalation"]["steps"]] == [
            {"kind": "role", "value": "wellbeing_lead"},
            {"kind": "role", "value": "admin"},
        ]
        await eventually(lambda: any(name == "ok" for name, _, _ in stack.webhooks.received), timeout=30)
        assert floor_routes("rota") == before + 1

        assert await route_event(ctx=app.state.services, event=event) == []  # a redelivery makes nothing new
        assert await repo.alerts.count_documents({"event_ids": event.id}) == 1


async def test_with_nobody_in_the_directory_the_last_resort_contact_is_mailed(isolation, smtp, webhooks):
    stack = Stack(isolation, smtp, webhooks, safety_floor_email="floor@med.example.edu")
    try:
        app = stack.app()
        async with running(app) as client:
            await app.state.services.repo.routes.delete_many({"event_types": "flag.raised"})
            await wait_for_consumer(app)
            before = floor_routes("contact")
            await stack.flag(student="s1")
            await eventually(lambda: stack.mailbox.messages, timeout=30)
            assert [m[0] for m in stack.mailbox.messages] == [["floor@med.example.edu"]]
            assert floor_routes("contact") == before + 1
            alerts = await app.state.services.repo.alerts.find({}).to_list(None)
            assert [a["recipient_id"] for a in alerts] == [SAFETY_FLOOR_CONTACT_ID]
            # the contact comes from the settings: no API call can remove it
            assert (await client.get(f"/v1/staff/{SAFETY_FLOOR_CONTACT_ID}", headers=ADMIN)).status_code == 404
    finally:
        await stack.publisher.stop()


async def test_without_a_rota_a_lead_or_a_contact_the_counsellors_get_it(stack):
    app = stack.app()
    async with running(app) as client:
        body = {"roles": ["counsellor"], "email": "c2@med.example.edu"}
        assert (await client.put("/v1/staff/c2", json=body, headers=LEAD)).status_code == 200
        await app.state.services.repo.routes.delete_many({"event_types": "flag.raised"})
        await wait_for_consumer(app)
        before = floor_routes("counsellors")
        await stack.flag(student="s1")
        (alert,) = await eventually(lambda: inbox(client, "c2", "counsellor"), timeout=30)
        assert alert["rule_id"] == "safety-floor" and floor_routes("counsellors") == before + 1


async def test_preview_shows_who_a_flag_reaches_and_the_safety_floor_and_changes_nothing(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)
        urgent = await urgent_rule(client)
        body = {"event_type": "flag.raised", "severity": "urgent", "cohort": "2027"}
        assert (await client.post("/v1/routes/preview", json=body, headers=auth("c1", "counsellor"))).status_code == 403
        seen = (await client.post("/v1/routes/preview", json=body, headers=LEAD)).json()
        assert seen["safety_floor"] is False
        assert [(r["person_id"], r["rule_id"]) for r in seen["recipients"]] == [("c1", "wellbeing-urgent")]
        assert seen["recipients"][0]["roles"] == ["counsellor"]
        assert [s["after_minutes"] for s in seen["recipients"][0]["escalation"]] == [15, 30]

        trial = {**body, "rule": {**urgent, "enabled": False}}
        tried = (await client.post("/v1/routes/preview", json=trial, headers=ADMIN)).json()
        assert tried["safety_floor"] is True
        assert [(r["person_id"], r["rule_id"]) for r in tried["recipients"]] == [("c1", "safety-floor")]
        assert await urgent_rule(client) == urgent  # the trial rule was not saved

        unknown = await client.post("/v1/routes/preview", json={**body, "event_type": "nothing"}, headers=ADMIN)
        assert unknown.status_code == 422


async def inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


async def test_an_event_no_rule_matches_is_logged_and_counted(stack):
    app, lines = stack.app(), Lines()
    logging.getLogger("notifications").addHandler(lines)
    async with running(app) as client:
        reminder = next(
            r for r in (await client.get("/v1/routes", headers=ADMIN)).json()["items"] if r["id"] == "checkin-reminder"
        )
        assert (
            await client.put("/v1/routes/checkin-reminder", json={**reminder, "enabled": False}, headers=ADMIN)
        ).status_code == 200
        await wait_for_consumer(app)
        labels = {"event_type": "checkin.reminder_due"}
        before = REGISTRY.get_sample_value("medsupport_notifications_unmatched_events_total", labels) or 0
        event = new_event(
            CheckinReminderDue(student_id="s1", due_at=utcnow(), cadence_days=7, reminder_id="r1"),
            source="/services/wellbeing",
        )
        await stack.publisher.publish(event)
        await eventually(
            lambda: (
                (REGISTRY.get_sample_value("medsupport_notifications_unmatched_events_total", labels) or 0) > before
            ),
            timeout=30,
        )
        logging.getLogger("notifications").removeHandler(lines)
        assert any(
            r.getMessage() == "event matched no enabled routing rule" and r.event_id == event.id for r in lines.seen
        )
        assert await app.state.services.repo.alerts.count_documents({}) == 0


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.seen = []

    def emit(self, record):
        self.seen.append(record)
