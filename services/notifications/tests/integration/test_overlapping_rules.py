"""Two rules reaching the same person about the same event give one alert that keeps the broader rule's
channels and escalation: a narrow rule added by an admin never silences the default urgent route."""

import pytest

from medsupport_shared.testing import auth, eventually, running
from notifications.alerts import route_event

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration

NARROW = {  # sorts before "wellbeing-urgent", so it is routed first
    "id": "a-cohort-2027-inapp",
    "event_types": ["flag.raised"],
    "severities": ["urgent"],
    "cohorts": ["2027"],
    "target": {"kind": "role", "value": "counsellor"},
    "channels": ["inapp"],
    "escalation": [],
}


async def test_a_narrow_rule_does_not_strip_the_urgent_alerts_channels_or_escalation(stack):
    app = stack.app()
    async with running(app) as client:
        repo = app.state.services.repo
        await stack.setup_staff(client)
        assert (await client.post("/v1/routes", json=NARROW, headers=ADMIN)).status_code == 201
        await wait_for_consumer(app)
        event = await stack.flag(student="s1", severity="urgent", flag_id="f1")

        # c1 is on call: one alert, on every channel, escalating
        await eventually(lambda: [m for m in stack.mailbox.messages if m[0] == ["c1@med.example.edu"]], timeout=30)
        await eventually(lambda: stack.webhooks.received, timeout=30)  # only c1 has a webhook
        (alert,) = await repo.alerts.find({"recipient_id": "c1", "subject_id": "s1"}).to_list(None)
        assert [post["alert_id"] for _, post, _ in stack.webhooks.received] == [alert["_id"]]
        assert set(alert["channels"]) == {"inapp", "email", "webhook"}
        assert alert["escalation"] and alert["escalation"]["steps"][0]["after_minutes"] == 15
        assert alert["event_ids"] == [event.id]
        listed = (await client.get("/v1/inbox", headers=auth("c1", "counsellor"))).json()["items"]
        assert [a["id"] for a in listed] == [alert["_id"]] and listed[0]["next_escalation_at"] is not None
        # c2 (not on call) is reached by the narrow rule alone: in-app, no escalation
        (other,) = await eventually(lambda: repo.alerts.find({"recipient_id": "c2"}).to_list(None))
        assert other["channels"] == ["inapp"] and not other.get("escalation")

        # the event routed again (past the consumer's inbox) changes nothing and sends nothing twice
        sent = len([m for m in stack.mailbox.messages if m[0] == ["c1@med.example.edu"]])
        assert await route_event(ctx=app.state.services, event=event) == []
        assert (await repo.alert_document(alert_id=alert["_id"]))["version"] == alert["version"]
        deliveries = await repo.deliveries.find({"alert_id": alert["_id"]}).to_list(None)
        assert sorted(d["channel"] for d in deliveries) == ["email", "inapp", "webhook"]
        assert len([m for m in stack.mailbox.messages if m[0] == ["c1@med.example.edu"]]) == sent
        assert len(stack.webhooks.received) == 1
