"""An alert about an anonymous concern report keeps no time finer than the hour that feedback's rounding
hides (alert, deliveries and their attempts, its events and their Kafka record timestamps), and its
e-mail and webhook go out after a random delay, while the officer's in-app inbox has it at once."""

from datetime import UTC, datetime, timedelta

import pytest

from medsupport_shared.event_types import ConcernRaised
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running
from notifications.domain.coarse_time import hour_floor

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration
OFFICER = auth("co-1", "concerns_officer")
HOUR_MS = 3600 * 1000


def on_the_hour(moment: datetime) -> bool:
    return moment == hour_floor(moment)


async def _report(stack, client, app):
    officer = {
        "roles": ["concerns_officer"],
        "email": "co@med.example.edu",
        "webhook_url": f"{stack.webhooks.url}/ok",
    }
    assert (await client.put("/v1/staff/co-1", json=officer, headers=ADMIN)).status_code == 200
    rules = (await client.get("/v1/routes", headers=ADMIN)).json()["items"]
    rule = next(r for r in rules if r["id"] == "concern-raised") | {"channels": ["inapp", "email", "webhook"]}
    assert (await client.put("/v1/routes/concern-raised", json=rule, headers=ADMIN)).status_code == 200
    await wait_for_consumer(app)
    hour = hour_floor(utcnow())  # as feedback publishes an anonymous report
    report = ConcernRaised(concern_id="k-anon", category="safety", anonymous=True, reported_at=hour)
    await stack.publisher.publish(new_event(report, source="/services/feedback", time=hour))


async def _officer_inbox(client):
    return (await client.get("/v1/inbox", headers=OFFICER)).json()["items"]


async def test_an_anonymous_reports_alert_keeps_only_hour_rounded_times(make_stack):
    stack = make_stack(anonymous_alert_max_delay_seconds=0)
    app = stack.app()
    async with running(app) as client, stack.reader() as reader:
        await _report(stack, client, app)
        (alert,) = await eventually(lambda: _officer_inbox(client), timeout=30)
        await eventually(lambda: stack.mailbox.messages and stack.webhooks.received, timeout=30)
        repo = app.state.services.repo

        async def all_delivered():
            found = await repo.deliveries.find({"alert_id": alert["id"]}).to_list(None)
            return found if found and all(d["status"] == "delivered" for d in found) else None

        deliveries = await eventually(all_delivered, timeout=30)
        stored = await repo.alerts.find_one({"_id": alert["id"]})
        times = [stored["created_at"], stored["updated_at"], stored["event_time"], stored["first_delivered_at"]]
        for delivery in deliveries:
            times += [delivery["created_at"], delivery["delivered_at"], *(a["at"] for a in delivery["attempts"])]
        assert len(deliveries) == 3 and all(on_the_hour(t) for t in times), times

        events = await reader.wait_for(lambda e: e.data.get("alert_id") == alert["id"], count=4)
        assert {e.type for e in events} == {"alert.created", "alert.delivered"}
        for event in events:
            assert on_the_hour(event.time)
            stamp = event.data.get("created_at") or event.data.get("delivered_at")
            assert on_the_hour(datetime.fromisoformat(stamp))
        mine = [r for r in reader.records if alert["id"].encode() in r.value]
        assert len(mine) >= 4 and all(r.timestamp % HOUR_MS == 0 for r in mine)


async def test_its_email_and_webhook_wait_a_random_delay_but_the_inbox_has_it_at_once(make_stack):
    stack = make_stack(anonymous_alert_max_delay_seconds=3600)
    app = stack.app()
    async with running(app) as client:
        await _report(stack, client, app)
        (alert,) = await eventually(lambda: _officer_inbox(client), timeout=30)
        repo = app.state.services.repo

        async def planned():
            found = {d["channel"]: d for d in await repo.deliveries.find({"alert_id": alert["id"]}).to_list(None)}
            return found if len(found) == 3 and found["inapp"]["status"] == "delivered" else None

        deliveries = await eventually(planned, timeout=30)
        for channel in ("email", "webhook"):
            due = deliveries[channel]["next_attempt_at"].replace(tzinfo=UTC)
            assert deliveries[channel]["status"] == "pending" and deliveries[channel]["attempt_count"] == 0
            assert utcnow() - timedelta(seconds=5) <= due <= utcnow() + timedelta(seconds=3600)
        assert deliveries["email"]["next_attempt_at"] != deliveries["inapp"]["next_attempt_at"]
        assert not stack.mailbox.messages and not stack.webhooks.received


async def test_the_officers_live_inbox_shows_it_although_its_times_are_rounded(make_stack):
    import asyncio

    import httpx

    from medsupport_shared.testing import serving

    from .test_inbox_stream import events_of, stream

    stack = make_stack(anonymous_alert_max_delay_seconds=0)
    app = stack.app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=30) as client:
        received: list[tuple[str, dict]] = []
        async with stream(client, headers=OFFICER) as response:
            reading = asyncio.create_task(events_of(response, received))
            await _report(stack, client, app)
            try:
                await eventually(lambda: [d for kind, d in received if kind == "alert"], timeout=30)
            finally:
                reading.cancel()
        shown = next(d for kind, d in received if kind == "alert")
        assert shown["event_type"] == "concern.raised" and on_the_hour(datetime.fromisoformat(shown["created_at"]))
