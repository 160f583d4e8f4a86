"""An urgent flag reaches the on-call counsellor on every channel, once; escalation; failing channels."""

import asyncio
import json
from datetime import timedelta

import httpx
import pytest
from prometheus_client import REGISTRY

from medsupport_shared.event_types import CheckinRecorded, CheckinReminderDue, FlagRaised, FlagUpdated
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running, serving

from .conftest import ADMIN, LEAD, wait_for_consumer

pytestmark = pytest.mark.integration
C1 = auth("c1", "counsellor")


async def inbox(client, who, roles=("counsellor",)):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


async def follow_sse(base_url, headers, into):
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{base_url}/v1/inbox/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                into.append(json.loads(line[6:]))


async def test_urgent_flag_reaches_the_on_call_counsellor_on_every_channel_exactly_once(stack):
    app = stack.app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client, stack.reader() as reader:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        streamed: list[dict] = []
        sse = asyncio.create_task(follow_sse(url, C1, streamed))
        await asyncio.sleep(0.5)
        event = await stack.flag()
        alerts = await eventually(lambda: inbox(client, "c1"))
        alert = alerts[0]
        assert (alert["severity"], alert["subject_id"], alert["reasons"]) == ("urgent", "s1", ["phq9_item9_positive"])
        await eventually(lambda: stack.mailbox.messages and stack.webhooks.received and streamed)
        await reader.wait_for(lambda e: e.type == "alert.delivered", count=3)
        await asyncio.sleep(1.0)  # anything doubled would have arrived by now
        sse.cancel()
        assert len(stack.mailbox.messages) == 1 and stack.mailbox.messages[0][0] == ["c1@med.example.edu"]
        assert len(stack.webhooks.received) == 1
        _name, payload, signed = stack.webhooks.received[0]
        assert signed and payload["alert_id"] == alert["id"] and payload["event_type"] == "flag.raised"
        assert payload["severity"] == "urgent" and payload["link"].startswith("/")
        # a link and a severity leave the platform, never the reasons nor whom the alert is about
        for private in ("answers", "phq9_item9_positive", '"s1"', "subject"):
            assert private not in json.dumps(payload)
        assert payload["url"] == f"http://127.0.0.1:8080/alerts/{alert['id']}"  # the console's page for it
        mail = stack.mailbox.messages[0][1].get_payload()
        assert f"Open: http://127.0.0.1:8080/alerts/{alert['id']}" in mail
        assert "phq9_item9_positive" not in mail and "s1" not in mail and "Severity: urgent" in mail
        assert [s["id"] for s in streamed] == [alert["id"]]
        details = (await client.get(f"/v1/alerts/{alert['id']}", headers=C1)).json()
        assert {d["channel"]: d["status"] for d in details["deliveries"]} == {
            "inapp": "delivered",
            "email": "delivered",
            "webhook": "delivered",
        }
        created = [e for e in reader.events if e.type == "alert.created"]
        assert len(created) == 1 and created[0].data["event_id"] == event.id
        # for ops and audit consumers: neither the student nor that it is about a wellbeing flag
        assert created[0].data.get("subject_id") is None and created[0].data.get("source_event_type") is None
        assert created[0].subject == alert["id"] and "s1" not in json.dumps(created[0].data)
        # one student's wellbeing alert: its recipients and the wellbeing lead; nobody else learns it exists
        for other in (auth("c2", "counsellor"), auth("a1", "admin"), auth("o1", "ops"), auth("f1", "faculty")):
            hidden = await client.get(f"/v1/alerts/{alert['id']}", headers=other)
            assert hidden.status_code == 404 and hidden.json()["detail"] == "no alert with that id"
            assert (await client.post(f"/v1/alerts/{alert['id']}/ack", headers=other)).status_code == 404
        assert (await client.get(f"/v1/alerts/{alert['id']}", headers=auth("l1", "wellbeing_lead"))).status_code == 200


async def test_unacknowledged_urgent_alert_escalates_to_the_lead_then_admin_but_an_acknowledged_one_does_not(stack):
    app = stack.app()
    async with running(app) as client, stack.reader() as reader:
        await stack.setup_staff(client)
        await stack.short_escalation(client, minutes=(0.02, 0.04))
        await wait_for_consumer(app)
        await stack.flag(student="s1", flag_id="f1")
        await stack.flag(student="s2", flag_id="f2")
        alerts = await eventually(lambda: _two(client))
        s2_alert = next(a for a in alerts if a["subject_id"] == "s2")
        acked = await client.post(f"/v1/alerts/{s2_alert['id']}/ack", headers=C1)
        assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
        lead = await eventually(lambda: inbox(client, "lead-1", ("wellbeing_lead",)), timeout=20)
        admin = await eventually(lambda: inbox(client, "admin-1", ("admin",)), timeout=20)
        await reader.wait_for(lambda e: e.type == "alert.escalated", count=2)
        await asyncio.sleep(2.5)  # past both escalation times for s2 as well
        assert [a["subject_id"] for a in await inbox(client, "lead-1", ("wellbeing_lead",))] == ["s1"]
        (notice,) = await inbox(client, "admin-1", ("admin",))  # admin is no health role: a redacted notice
        assert (notice["title"], notice["reasons"], notice["link"]) == (
            "An urgent alert is unacknowledged",
            [],
            f"/alerts/{notice['id']}",
        )
        assert notice["subject_id"] == notice["id"] and notice["urgent"]
        assert lead[0]["title"].startswith("Escalated") and lead[0]["reasons"] == ["phq9_item9_positive"]
        assert admin[0]["root_id"] == lead[0]["root_id"]
        to_admin = await eventually(lambda: [m for to, m in stack.mailbox.messages if to == ["admin@med.example.edu"]])
        assert all("s1" not in m.as_string() and "phq9" not in m.as_string() for m in to_admin)
        levels = sorted(e.data["level"] for e in reader.events if e.type == "alert.escalated")
        assert levels == [1, 2]
        # The lead acknowledging the escalated alert stops the whole chain.
        done = await client.post(f"/v1/alerts/{lead[0]['id']}/ack", headers=auth("lead-1", "wellbeing_lead"))
        root = (await client.get(f"/v1/alerts/{lead[0]['root_id']}", headers=C1)).json()
        assert done.json()["status"] == "acknowledged" and root["status"] == "acknowledged"
        assert (await client.post(f"/v1/alerts/{root['id']}/ack", headers=auth("c2", "counsellor"))).status_code == 404
        # Who was notified along the chain: in full for counselling roles, wellbeing steps redacted for the admin.
        chain = root["chain"]
        assert [(e["level"], e["recipient_id"], e["redacted"]) for e in chain] == [
            (0, "c1", False),
            (1, "lead-1", False),
            (2, "admin-1", False),
        ]
        assert chain[1]["acknowledged_by"] == "lead-1" and "email" in chain[0]["channels"]
        seen_by_admin = (await client.get(f"/v1/alerts/{notice['id']}", headers=auth("admin-1", "admin"))).json()
        assert [(e["level"], e["recipient_id"], e["redacted"]) for e in seen_by_admin["chain"]] == [
            (0, None, True),
            (1, None, True),
            (2, "admin-1", False),
        ]
        # ops and audit consumers of alert events never learn whom a wellbeing alert is about
        await reader.wait_for(lambda e: e.type == "alert.acknowledged", count=2)
        await reader.wait_for(lambda e: e.type == "alert.delivered")
        kinds = {"alert.created", "alert.delivered", "alert.escalated", "alert.acknowledged"}
        about = [(e.type, e.subject, e.data.get("subject_id")) for e in reader.events if e.type in kinds]
        assert {kind for kind, _, _ in about} == kinds
        assert not [a for a in about if {"s1", "s2"} & {a[1], a[2]}], about


async def _two(client):
    items = await inbox(client, "c1")
    return items if len(items) == 2 else None


async def test_a_webhook_that_fails_twice_then_succeeds_is_delivered_once(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client, webhook="flaky")
        await wait_for_consumer(app)
        await stack.flag()
        await eventually(lambda: stack.webhooks.received)
        await asyncio.sleep(0.5)
        assert stack.webhooks.calls["flaky"] == 3 and len(stack.webhooks.received) == 1
        alert = (await inbox(client, "c1"))[0]
        details = (await client.get(f"/v1/alerts/{alert['id']}", headers=C1)).json()
        webhook = next(d for d in details["deliveries"] if d["channel"] == "webhook")
        assert webhook["status"] == "delivered"
        assert [a["outcome"] for a in webhook["attempts"]] == ["failed", "failed", "delivered"]


async def test_a_dead_webhook_ends_in_delivery_failed_while_email_and_inapp_still_arrive(stack):
    app = stack.app()
    async with running(app) as client, stack.reader() as reader:
        await stack.setup_staff(client, webhook="dead")
        await wait_for_consumer(app)
        await stack.flag()
        failed = await reader.wait_for(lambda e: e.type == "delivery.failed", timeout=20)
        assert failed[0].data["channel"] == "webhook" and failed[0].data["attempts"] == 3
        assert len(stack.mailbox.messages) == 1
        alert = (await inbox(client, "c1"))[0]
        details = (await client.get(f"/v1/alerts/{alert['id']}", headers=C1)).json()
        assert {d["channel"]: d["status"] for d in details["deliveries"]} == {
            "inapp": "delivered",
            "email": "delivered",
            "webhook": "failed",
        }


async def test_the_same_event_redelivered_creates_no_second_alert_and_checkin_severities_are_not_kept(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        first = await stack.flag(student="s1")
        await stack.publisher.publish(first)  # the broker delivers it again
        checkin = new_event(
            CheckinRecorded(
                checkin_id="ck1",
                student_id="s1",
                instrument="who5",
                severity="none",
                recorded_at=utcnow(),
                stored=False,
            ),
            source="/services/wellbeing",
        )
        await stack.publisher.publish(checkin)
        await stack.flag(student="s2", flag_id="f2")  # a marker behind them
        await eventually(lambda: _two(client))
        assert len([a for a in await inbox(client, "c1") if a["subject_id"] == "s1"]) == 1
        repo = app.state.services.repo
        consumed = REGISTRY.get_sample_value(
            "medsupport_events_consumed_total",
            {"service": "notifications", "topic": stack.isolation.topic("wellbeing.events.v1"),
             "type": "checkin.recorded", "outcome": "ignored"},
        )  # fmt: skip
        assert consumed  # it was read, and nothing of it is kept: notifications needs no check-in severities
        assert await repo.checkins.count_documents({}) == 0


async def test_a_restart_mid_escalation_escalates_exactly_once(stack):
    app = stack.app()
    async with running(app) as client, stack.reader() as reader:
        await stack.setup_staff(client)
        await stack.short_escalation(client, minutes=(0.05, 60))
        await wait_for_consumer(app)
        await stack.flag()
        await eventually(lambda: inbox(client, "c1"))
    await asyncio.sleep(3.5)  # the escalation came due while the service was down
    restarted = stack.app()
    async with running(restarted) as client, stack.reader() as reader:
        lead = await eventually(lambda: inbox(client, "lead-1", ("wellbeing_lead",)), timeout=20)
        await asyncio.sleep(1.5)
        assert len(await inbox(client, "lead-1", ("wellbeing_lead",))) == 1 and lead[0]["subject_id"] == "s1"
        assert len([e for e in reader.events if e.type == "alert.escalated"]) == 1


async def test_a_burst_about_one_student_inside_the_window_is_one_alert_per_recipient(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        for n in range(3):
            await stack.flag(severity="elevated", flag_id="f9", event_type=FlagUpdated if n else FlagRaised)
        await eventually(lambda: _event_count(client, "c2", 3))
        for who in ("c1", "c2"):
            alerts = await inbox(client, who)
            assert len(alerts) == 1 and len(alerts[0]["event_ids"]) == 3
        assert len(stack.mailbox.messages) == 2  # one email each, not three


async def _event_count(client, who, n):
    alerts = await inbox(client, who)
    return alerts and len(alerts[0]["event_ids"]) == n


async def test_quiet_hours_defer_routine_email_but_never_urgent(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        now = utcnow()
        quiet = {
            "start": (now - timedelta(hours=1)).strftime("%H:%M"),
            "end": (now + timedelta(hours=1)).strftime("%H:%M"),
            "timezone": "UTC",
        }
        for staff_id in ("c1", "c2"):
            body = {"roles": ["counsellor"], "email": f"{staff_id}@med.example.edu", "quiet_hours": quiet}
            assert (await client.put(f"/v1/staff/{staff_id}", json=body, headers=LEAD)).status_code == 200
        await wait_for_consumer(app)
        await stack.flag(student="s3", severity="elevated", flag_id="f3")
        c2_alert = (await eventually(lambda: inbox(client, "c2")))[0]
        email = await eventually(lambda: _delivery(client, c2_alert["id"], "email", auth("c2", "counsellor")))
        assert email["status"] == "pending" and email["reason"] == "deferred for quiet hours"
        await stack.flag(student="s4", severity="urgent", flag_id="f4")  # c1 is on call, also in quiet hours
        await eventually(lambda: [m for m in stack.mailbox.messages if m[0] == ["c1@med.example.edu"]])
        assert all(m[0] != ["c2@med.example.edu"] for m in stack.mailbox.messages)


async def test_an_unknown_time_zone_is_refused_and_a_stored_one_never_blocks_an_alert(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        mars = {"start": "22:00", "end": "07:00", "timezone": "Mars/Base"}
        body = {"roles": ["counsellor"], "email": "c9@med.example.edu", "quiet_hours": mars}
        refused = await client.put("/v1/staff/c9", json=body, headers=ADMIN)
        assert refused.status_code == 422 and "Mars/Base" in refused.text
        assert await app.state.services.repo.people.find_one({"_id": "c9"}) is None
        mine = await client.put("/v1/me/preferences", json={"quiet_hours": mars}, headers=auth("s1", "student"))
        assert mine.status_code == 422
        # one written before zones were checked: ignored, and every recipient of the event is alerted
        await app.state.services.repo.people.update_one({"_id": "c1"}, {"$set": {"quiet_hours": mars}})
        await wait_for_consumer(app)
        await stack.flag(student="s5", severity="elevated", flag_id="f5")
        for staff_id in ("c1", "c2"):
            alert = (await eventually(lambda staff_id=staff_id: inbox(client, staff_id)))[0]
            headers = auth(staff_id, "counsellor")
            email = await eventually(lambda a=alert, h=headers: _delivery(client, a["id"], "email", h))
            assert email["reason"] != "deferred for quiet hours"


async def _delivery(client, alert_id, channel, headers):
    """The alert's delivery on that channel, once planned (the alert is visible a moment before)."""
    details = (await client.get(f"/v1/alerts/{alert_id}", headers=headers)).json()
    return next((d for d in details["deliveries"] or () if d["channel"] == channel), None)


async def test_a_crash_between_the_alert_and_its_deliveries_still_delivers_once(stack, monkeypatch):
    """The handler fails after storing the alert, before planning its deliveries (as a killed process
    would); the event is handled again and the alert reaches every channel, once."""
    import notifications.alerts

    planned = notifications.alerts.start_deliveries
    crashes = []

    async def crash_the_first_time(**kwargs):
        if not crashes:
            crashes.append(kwargs["alert"]["_id"])
            raise RuntimeError("process killed here")
        await planned(**kwargs)

    monkeypatch.setattr(notifications.alerts, "start_deliveries", crash_the_first_time)
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag()
        await eventually(lambda: stack.mailbox.messages and stack.webhooks.received, timeout=30)
        await asyncio.sleep(1.0)  # anything doubled would have arrived by now
        (alert,) = await inbox(client, "c1")
        assert crashes == [alert["id"]]
        assert len(stack.mailbox.messages) == 1 and len(stack.webhooks.received) == 1
        details = (await client.get(f"/v1/alerts/{alert['id']}", headers=C1)).json()
        assert sorted(d["channel"] for d in details["deliveries"]) == ["email", "inapp", "webhook"]


async def test_an_urgent_flag_does_not_wait_behind_a_backlog_of_routine_wellbeing_events(stack):
    """Flags have their own consumer lane: a flag published behind hundreds of check-in reminders on the same
    topic is alerted while the main consumer is still working through them."""
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        backlog = [
            new_event(
                CheckinReminderDue(student_id=f"bk{i}", due_at=utcnow(), cadence_days=7, reminder_id=f"r{i}"),
                source="/services/wellbeing",
            )
            for i in range(60)
        ]
        await asyncio.gather(*(stack.publisher.publish(e) for e in backlog))
        await stack.flag(student="s1")
        await eventually(lambda: inbox(client, "c1"), timeout=30)
        repo = app.state.services.repo
        reminded_when_alerted = await _reminders(repo)
        assert reminded_when_alerted < len(backlog), "the flag waited for every reminder ahead of it"
        await eventually(lambda: _all_reminded(repo, len(backlog)), timeout=240)  # and none of them is lost


async def _reminders(repo):
    return await repo.alerts.count_documents({"event_type": "checkin.reminder_due"})


async def _all_reminded(repo, n):
    return await _reminders(repo) == n
