"""Referral events from wellbeing reach the counselling team, the wellbeing lead (a missed deadline) and the
student (the notice in the institution's words), once each, and nobody outside the counselling roles."""

import asyncio
from datetime import timedelta

import httpx
import pytest

from medsupport_shared.event_types import ReferralDeadlineMissed, ReferralReceived, ReferralStudentNotice
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, serving

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration
MESSAGE = "Someone from student support will reach out soon."


async def inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


async def test_referral_events_reach_counsellors_the_lead_and_the_student_once_and_nobody_else(stack):
    app = stack.app()
    now = utcnow()
    received = new_event(
        ReferralReceived(
            referral_id="r1",
            student_id="s1",
            kind="concern",
            category="attendance",
            urgency="this_week",
            severity="routine",
            deadline_at=now + timedelta(days=3),
            received_at=now,
        ),
        source="/services/wellbeing",
    )
    missed = new_event(
        ReferralDeadlineMissed(
            referral_id="r1",
            student_id="s1",
            kind="concern",
            category="attendance",
            urgency="this_week",
            deadline_at=now,
            missed_at=now,
        ),
        source="/services/wellbeing",
    )
    notice = new_event(
        ReferralStudentNotice(referral_id="r1", student_id="s1", message=MESSAGE, noticed_at=now),
        source="/services/wellbeing",
    )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        for event in (received, missed, notice, received):  # the last one is a redelivery
            await stack.publisher.publish(event)
        for counsellor in ("c1", "c2"):
            alerts = await eventually(lambda c=counsellor: inbox(client, c, "counsellor"))
            assert [(a["event_type"], a["link"]) for a in alerts] == [("referral.received", "/wellbeing/referrals/r1")]
        lead = await eventually(lambda: inbox(client, "lead-1", "wellbeing_lead"))
        assert [a["event_type"] for a in lead] == ["referral.deadline_missed"]
        student = await eventually(lambda: inbox(client, "s1", "student"))
        assert [(a["title"], a["link"]) for a in student] == [(MESSAGE, "/wellbeing/me/help")]
        await asyncio.sleep(0.5)  # a doubled alert would have arrived by now
        assert len(await inbox(client, "c1", "counsellor")) == 1
        assert await inbox(client, "admin-1", "admin") == []
        assert len(await inbox(client, "s1", "student")) == 1


async def test_a_workshop_reminder_reaches_the_student(stack):
    from medsupport_shared.event_types import WorkshopReminderDue

    app = stack.app()
    event = new_event(
        WorkshopReminderDue(
            workshop_id="w1", session_id="ws1", student_id="s7", starts_at=utcnow(), reminder_id="ws1:seat:0"
        ),
        source="/services/wellbeing",
    )
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.publisher.publish(event)
        alerts = await eventually(lambda: inbox(client, "s7", "student"))
        assert [(a["event_type"], a["link"]) for a in alerts] == [("workshop.reminder_due", "/wellbeing/workshops/w1")]
