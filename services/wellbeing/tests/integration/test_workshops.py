"""Workshops on the real database and broker: seats are unique slots (never overbooked, even when signed up
for at once), cancellation frees a seat, and each sign-up is reminded once."""

import asyncio
from datetime import timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import TopicReader, auth, running
from wellbeing.app import create_app
from wellbeing.settings import WellbeingSettings
from wellbeing.workshops import send_workshop_reminders

pytestmark = pytest.mark.integration
LEAD = auth("l1", "wellbeing_lead")


def student(n):
    return auth(f"s{n}", "student")


async def schedule(client, *, seats, starts_in):
    start = utcnow() + starts_in
    body = {
        "title": "Managing exam stress",
        "sessions": [
            {
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=1)).isoformat(),
                "seats": seats,
                "location": "room 2",
            }
        ],
    }
    created = await client.post("/v1/workshops", headers=LEAD, json=body)
    assert created.status_code == 201, created.text
    workshop = created.json()
    return workshop["id"], workshop["sessions"][0]["id"]


async def test_concurrent_sign_ups_never_exceed_the_seats_and_cancelling_frees_one(wellbeing):
    client = wellbeing.client
    assert (
        await client.post("/v1/workshops", headers=student(0), json={"title": "x", "sessions": []})
    ).status_code in (
        403,
        422,
    )
    workshop_id, session_id = await schedule(client, seats=3, starts_in=timedelta(days=7))
    path = f"/v1/workshops/{workshop_id}/sessions/{session_id}/seats"
    answers = await asyncio.gather(*(client.post(path, headers=student(n)) for n in range(8)))
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 5
    winner = next(n for n, a in enumerate(answers) if a.status_code == 201)
    again = await client.post(path, headers=student(winner))
    assert again.status_code == 201 and again.json()["seat"] == answers[winner].json()["seat"]
    listed = (await client.get("/v1/workshops", headers=student(0))).json()["items"]
    assert listed[0]["sessions"][0]["seats_taken"] == 3

    assert (await client.delete(f"{path}/me", headers=student(winner))).status_code == 204
    assert (await client.delete(f"{path}/me", headers=student(winner))).status_code == 404
    loser = next(n for n, a in enumerate(answers) if a.status_code == 409)
    assert (await client.post(path, headers=student(loser))).status_code == 201
    assert (
        await client.post(f"/v1/workshops/{workshop_id}/sessions/nope/seats", headers=student(9))
    ).status_code == 404


async def test_each_sign_up_is_reminded_once_before_its_session(isolation):
    settings = isolation.settings(WellbeingSettings, workshop_reminder_hours=2, workshop_sweep_interval_seconds=0.2)
    app = create_app(settings)
    async with (
        running(app) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        soon_id, soon_session = await schedule(client, seats=5, starts_in=timedelta(hours=1))
        later_id, later_session = await schedule(client, seats=5, starts_in=timedelta(days=3))
        for workshop_id, session_id in ((soon_id, soon_session), (later_id, later_session)):
            signed = await client.post(f"/v1/workshops/{workshop_id}/sessions/{session_id}/seats", headers=student(1))
            assert signed.status_code == 201
        reminders = await reader.wait_for(lambda e: e.type == "workshop.reminder_due")
        assert (reminders[0].data["session_id"], reminders[0].data["student_id"]) == (soon_session, "s1")
        assert await send_workshop_reminders(ctx=app.state.services) == 0  # a further sweep sends nothing
        assert [e.type for e in reader.events].count("workshop.reminder_due") == 1
